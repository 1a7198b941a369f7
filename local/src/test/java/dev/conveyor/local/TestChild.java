package dev.conveyor.local;

import java.util.concurrent.CountDownLatch;

/** A child process for the tests: {@code run} waits to be stopped, {@code exit N} exits, {@code stubborn} ignores SIGTERM. */
final class TestChild {

    private TestChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("child started: " + String.join(" ", args));
        switch (args[0]) {
            case "exit" -> System.exit(Integer.parseInt(args[1]));
            case "run" -> Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("child stopping")));
            case "stubborn" -> Runtime.getRuntime().addShutdownHook(new Thread(TestChild::blockForever));
            default -> throw new IllegalArgumentException(args[0]);
        }
        blockForever();
    }

    private static void blockForever() {
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
