package dev.conveyor.api.workers;

import dev.conveyor.common.JobLimits;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The queue and job type names of heartbeats as the {@link WorkerTable} keeps them. A heartbeat is anyone's to write
 * who can write to {@code conveyor.workers}: its lists could hold a megabyte of names each, and a table of such
 * workers would grow with every id written. So a list keeps only the names a job can have (no job of another could
 * ever match), at most {@link #MAX_PER_LIST} of them; each name is held once however many workers list it (a fleet's
 * workers list the same ones), at most {@link #MAX_DISTINCT} names in all.
 *
 * <p>Not thread-safe: the heartbeats' reader calls it, on its own thread.
 */
final class HeartbeatNames {

    /** Most queues, and most job types, one heartbeat may list; a worker refuses to start with more. */
    static final int MAX_PER_LIST = 1_000;
    /** Most distinct names the table holds for all its workers together. */
    static final int MAX_DISTINCT = 100_000;

    private static final Pattern QUEUE = JobLimits.QUEUE;
    private static final Pattern TYPE = JobLimits.TYPE;

    private final Map<String, String> held = new HashMap<>();

    /** A heartbeat's list the table cannot keep, and why. */
    static final class Refused extends Exception {
        Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The queue names of a heartbeat's list (null: none) that a job can have, each as held. */
    List<String> queues(List<String> names) throws Refused {
        return kept("queues", names, QUEUE, 64);
    }

    /** The job type names of a heartbeat's list (null: none) that a job can have, each as held. */
    List<String> types(List<String> names) throws Refused {
        return kept("types", names, TYPE, 100);
    }

    private List<String> kept(String field, List<String> names, Pattern pattern, int maxLength) throws Refused {
        if (names == null) {
            return List.of();
        }
        if (names.size() > MAX_PER_LIST) {
            throw new Refused("it lists " + names.size() + " " + field + ", more than " + MAX_PER_LIST);
        }
        var kept = new ArrayList<String>(names.size());
        for (var name : names) {
            if (name == null || name.length() > maxLength || !pattern.matcher(name).matches()) {
                continue;
            }
            var same = held.get(name);
            if (same == null) {
                if (held.size() >= MAX_DISTINCT) {
                    throw new Refused("the workers' heartbeats list " + MAX_DISTINCT + " distinct names already");
                }
                held.put(name, name);
                same = name;
            }
            kept.add(same);
        }
        return List.copyOf(kept);
    }

    /** Lets go of the names that none of {@code workers} lists. */
    void retainListedBy(Collection<Worker> workers) {
        var listed = new HashSet<String>();
        for (var worker : workers) {
            listed.addAll(worker.queues());
            listed.addAll(worker.types());
        }
        held.keySet().retainAll(listed);
    }
}
