package dev.conveyor.client;

import java.util.List;

/** One page of jobs, newest first; {@code next} is the cursor of the next page, or null on the last. */
public record JobPage(List<Job> jobs, String next) {
}
