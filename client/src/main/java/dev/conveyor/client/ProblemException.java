package dev.conveyor.client;

import java.util.List;

/** The api refused a request; {@link #problem()} is its problem document (status, title, detail, field errors). */
public class ProblemException extends ConveyorException {

    private final Problem problem;

    public ProblemException(Problem problem) {
        this(problem, null);
    }

    /** With a note of the client's after the problem's detail (how to fix it, as the client sees it). */
    ProblemException(Problem problem, String note) {
        super(problem.status() + " " + problem.title() + ": " + problem.detail() + (note == null ? "" : " (" + note
                + ")"), null);
        this.problem = problem;
    }

    public Problem problem() {
        return problem;
    }

    public int status() {
        return problem.status();
    }

    /** The offending fields of a validation problem (400); empty for other problems. */
    public List<Problem.FieldError> fieldErrors() {
        return problem.errors();
    }
}
