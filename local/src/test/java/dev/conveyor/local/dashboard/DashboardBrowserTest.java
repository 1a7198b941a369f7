package dev.conveyor.local.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.auth.KeyHash;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.local.FaultCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in headless Chromium against the whole system in real processes (PostgreSQL, Kafka, one api, two
 * workers). Skipped where {@code /usr/bin/chromium} or {@code /usr/bin/chromedriver} is missing (Debian packages
 * {@code chromium} and {@code chromium-driver}; {@code -Dconveyor.chromium=PATH} and
 * {@code -Dconveyor.chromedriver=PATH} name others). With {@code -Dconveyor.screenshots=DIR} it first runs a minute of
 * mixed load, so that the charts have something to show, and saves its screenshots in DIR. The api runs without keys
 * (as under {@code local}), except in the last test, which uses a second api with API keys (launched once the browser
 * has started, so that it starts while the other tests run, on the same database and Kafka).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DashboardBrowserTest.NeedsChromium.class)
class DashboardBrowserTest {

    /** Skips every test, saying why, where the browser or its driver is missing. */
    static final class NeedsChromium implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            for (var binary : List.of(CHROMIUM, CHROMEDRIVER)) {
                if (!Files.isExecutable(binary)) {
                    return ConditionEvaluationResult.disabled("skipped: no " + binary + " (install the Debian "
                            + "packages chromium and chromium-driver to run the dashboard's browser test)");
                }
            }
            return ConditionEvaluationResult.enabled("Chromium and ChromeDriver are installed");
        }
    }

    private static final Path CHROMIUM = Path.of(System.getProperty("conveyor.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER =
            Path.of(System.getProperty("conveyor.chromedriver", "/usr/bin/chromedriver"));
    private static final Duration WAIT = Duration.ofSeconds(45);
    private static final String SCREENSHOTS = System.getProperty("conveyor.screenshots", "");

    static Path home;
    static FaultCluster cluster;
    /** The api with keys of the last test, launched by {@link #start()} and awaited there. */
    static FaultCluster.Api keyed;
    static ChromeDriverService service;
    static ChromeDriver browser;
    static HttpJson http;
    static String base;

    @BeforeAll
    static void start() throws IOException {
        home = Path.of("target", "dashboard-test", Instant.now().toString().replace(':', '-'));
        Files.createDirectories(home);
        cluster = FaultCluster.start(new FaultCluster.Settings(1, 2, List.of("default", "emails", "reports"), Map.of(),
                List.of("--conveyor.api.queues=default,emails,reports,constructor",
                        "--conveyor.api.retry.base-delay=200ms",
                        // the shortest refresh allowed: many tests wait for the page's next refresh, which comes
                        // after 2 s by default (a job's page 1.5 s); what they check does not depend on the period
                        "--conveyor.api.dashboard.refresh=500ms"), List.of(),
                // as in the fault suite: C1 only and the serial collector start the JVMs on less CPU, and the page's
                // few jobs need no more
                List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")), home, Map.of());
        base = cluster.apis().getFirst().baseUrl();
        http = new HttpJson(base);
        // workers take a while to start on a busy machine; the tests are about the page, not about that
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .until(() -> http.get("/v1/workers").json().get("workers").size() == cluster.workers().size());
        browser = startBrowser(home.resolve("chromium-profile"));
        keyed = cluster.launchApi(keys(
                key("ops-admin", "ops", ADMIN, "admin"),
                key("acme-ro", "acme", ACME_READER, "jobs:read"),
                key("acme-wo", "acme", ACME_WRITER, "jobs:write"),
                key("globex-rw", "globex", GLOBEX, "jobs:write,jobs:read")));
    }

    private static ChromeDriver startBrowser(Path profile) throws IOException {
        Files.createDirectories(profile);
        var options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1280,860");
        var logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(home.resolve("logs/chromedriver.log").toFile()).build();
        return new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * What the browser's console said, for a failing test's report; a test fails if the page's Content-Security-Policy
     * refused anything of the dashboard's own (a script, a style) while it ran.
     */
    @AfterEach
    void printConsole(TestInfo test) {
        if (browser != null) {
            var refused = new ArrayList<String>();
            browser.manage().logs().get(LogType.BROWSER).forEach(entry -> {
                System.out.println("[browser] " + test.getDisplayName() + ": " + entry);
                if (entry.getMessage().contains("Content Security Policy")) {
                    refused.add(entry.getMessage());
                }
            });
            assertThat(refused).as("what the dashboard's Content-Security-Policy refused").isEmpty();
        }
    }

    private static void open(String hash) {
        browser.get(base + "/" + hash);
    }

    private static <T> T await(java.util.function.Function<WebDriver, T> condition) {
        return new WebDriverWait(browser, WAIT).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .withMessage(() -> "the page at " + browser.getCurrentUrl() + " shows:\n" + text("main")
                        + "\nthe api's /v1/queues: " + http.get("/v1/queues").text())
                .until(condition);
    }

    private static String text(String css) {
        return fresh(() -> {
            var found = browser.findElements(By.cssSelector(css));
            return found.isEmpty() ? null : found.getFirst().getText();
        });
    }

    /**
     * Reads the page again when it refreshed between finding an element and reading it. The dashboard redraws its
     * views every 500 ms here, so an element found may be gone by the next call; a redraw is over within one call of
     * the page's script, so a second find sees the new view.
     */
    private static <T> T fresh(java.util.function.Supplier<T> read) {
        for (var attempt = 1; ; attempt++) {
            try {
                return read.get();
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    private static String submit(String body) {
        var response = http.post("/v1/jobs", body);
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json().get("id").asString();
    }

    private static void screenshot(String name) throws IOException {
        if (SCREENSHOTS.isBlank()) {
            return;
        }
        var dir = Path.of(SCREENSHOTS);
        Files.createDirectories(dir);
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), dir.resolve(name + ".png"),
                StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    @Order(1)
    void theOverviewShowsAQueueOnceJobsAreSubmittedAndChartsItsThroughput() throws Exception {
        Thread load = null;
        if (!SCREENSHOTS.isBlank()) {
            load = Thread.ofVirtual().start(() -> Load.run(http, Duration.ofSeconds(75)));
            Thread.sleep(Duration.ofSeconds(60)); // lets the charts fill for the screenshot (pacing, not an outcome)
        }
        open("");
        for (var i = 0; i < 30; i++) {
            submit("{\"type\": \"echo\", \"queue\": \"emails\", \"payload\": {\"n\": " + i + "}}");
        }

        var row = "#queues tbody tr[data-queue='emails']";
        await(d -> "30".equals(text(row + " td[data-status='succeeded']")));
        assertThat(text(row + " td:first-child")).isEqualTo("emails");
        // the throughput chart's latest point counts the ends (5 s buckets, counted 2 s after they end)
        await(d -> {
            var latest = text("#throughput .legend b");
            return latest != null && !latest.equals("–") && !latest.equals("0");
        });
        assertThat(fresh(() -> browser.findElements(By.cssSelector("#throughput path.line")).getFirst().getAttribute("d")))
                .startsWith("M");
        screenshot("dashboard-overview");
        if (load != null) {
            System.out.println("[dashboard] GET /v1/stats at the screenshot: " + http.get("/v1/stats").text());
            load.join();
        }
    }

    @Test
    @Order(2)
    void aFailedJobsRetryButtonRunsItAgainAndThePageShowsItSucceed() throws Exception {
        // attempt 1 fails and uses up the budget; the retry's attempt 2 reaches untilAttempt and succeeds
        var id = submit("""
                {"type": "fail", "maxAttempts": 1,
                 "payload": {"message": "card declined", "retryable": true, "untilAttempt": 2}}""");

        open("#/jobs?status=FAILED&type=fail");
        var link = "#jobs tbody tr[data-id='" + id + "'] a";
        await(d -> !d.findElements(By.cssSelector(link)).isEmpty());
        screenshot("dashboard-jobs");
        fresh(() -> {
            browser.findElement(By.cssSelector(link)).click();
            return link;
        });

        await(d -> "FAILED".equals(statusShown()));
        assertThat(text("#error")).contains("HANDLER_ERROR", "card declined");
        assertThat(text("dd[data-field='attempts']")).isEqualTo("1 of 1");
        assertThat(enabled("retry")).isTrue();
        assertThat(enabled("cancel")).isFalse();

        click("retry");

        await(d -> "SUCCEEDED".equals(statusShown()));
        assertThat(text("#result")).contains("\"attempt\": 2");
        assertThat(text("dd[data-field='attempts']")).isEqualTo("2 of 2");
        assertThat(text("#message")).startsWith("Retried");
        assertThat(enabled("retry")).isFalse();
        assertThat(http.get("/v1/jobs/" + id).json().get("status").asString()).isEqualTo("SUCCEEDED");
        screenshot("dashboard-job");
    }

    @Test
    @Order(3)
    void theWorkersPageListsTheWorkers() throws Exception {
        open("#/workers");
        // the api runs without keys: nothing asks for one
        assertThat(browser.findElement(By.id("key-prompt")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.id("forget-key")).isDisplayed()).isFalse();

        for (var worker : cluster.liveWorkers()) {
            await(d -> !d.findElements(By.cssSelector("#workers tbody tr[data-worker='" + worker.id() + "']")).isEmpty());
            assertThat(text("#workers tbody tr[data-worker='" + worker.id() + "'] td:nth-child(2)"))
                    .contains("default", "emails", "reports");
        }
        assertThat(browser.findElements(By.cssSelector("#workers tbody tr"))).hasSize(cluster.liveWorkers().size());
        screenshot("dashboard-workers");
    }

    @Test
    @Order(4)
    void aPayloadIsShownAsTextNeverAsMarkup() {
        var id = submit("""
                {"type": "echo", "payload": {"html": "<img src=x onerror=\\"document.title='owned'\\"><b id=injected>x</b>"}}""");

        open("#/jobs/" + id);

        await(d -> "SUCCEEDED".equals(statusShown()));
        assertThat(text("#payload")).contains("<b id=injected>x</b>");
        assertThat(browser.findElements(By.id("injected"))).isEmpty();
        assertThat(browser.findElements(By.cssSelector("#payload img, #result img"))).isEmpty();
        assertThat(browser.getTitle()).isEqualTo("Conveyor");
    }

    @Test
    @Order(5)
    void bidiControlsInWhatClientsAndWorkersSentShowAsEscapesNotAsReorderedText() {
        // U+202E (right-to-left override) makes the rest of its line read backwards: "txt.exe" would show as "exe.txt"
        var id = submit("""
                {"type": "fail", "maxAttempts": 1, "idempotencyKey": "order-\\u202e24",
                 "payload": {"message": "invoice\\u202etxt.exe, \\u2066by\\u2069 \\u202anobody",
                             "retryable": false}}""");

        open("#/jobs/" + id);

        await(d -> "FAILED".equals(statusShown()));
        var shown = "invoice\\u202etxt.exe, \\u2066by\\u2069 \\u202anobody";
        assertThat(text("#payload")).contains(shown);
        assertThat(text("#error")).contains(shown);
        assertThat(text("dd[data-field='idempotency key']")).isEqualTo("order-\\u202e24");
        assertThat(text("main")).doesNotContainPattern("[\u202a-\u202e\u2066-\u2069]");
    }

    @Test
    @Order(6)
    void aJobsPageKeepsWhatTheUserSelectedWhileItRefreshes() {
        var id = submit("{\"type\": \"echo\", \"payload\": {\"copy\": \"me\"}}");
        open("#/jobs/" + id);
        await(d -> "SUCCEEDED".equals(statusShown()));

        select("#payload");
        awaitRefresh();

        assertThat(selected()).contains("\"copy\": \"me\"");

        open("#/jobs?type=echo");
        var link = "#jobs tbody tr[data-id='" + id + "'] a";
        await(d -> !d.findElements(By.cssSelector(link)).isEmpty());
        select(link);
        awaitRefresh();

        assertThat(selected()).isEqualTo(id);
    }

    @Test
    @Order(7)
    void newerAfterTheBrowsersBackButtonShowsTheNewerPage() {
        var jobs = new StringBuilder("{\"jobs\": [");
        for (var i = 0; i < 120; i++) {
            jobs.append(i == 0 ? "" : ",").append("{\"type\": \"pager\", \"payload\": {\"n\": ").append(i).append("}}");
        }
        var response = http.post("/v1/jobs/batch", jobs.append("]}").toString());
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        open("#/jobs?type=pager");
        await(d -> d.findElements(By.cssSelector("#jobs tbody tr[data-id]")).size() == 50);
        var newest = firstRow();

        click("older");
        var second = await(d -> firstRowOtherThan(newest));
        click("older");
        await(d -> firstRowOtherThan(newest, second));
        browser.navigate().back();
        await(d -> second.equals(firstRow()));
        assertThat(text(".pager .muted")).isEqualTo("page 2");

        click("newer");

        await(d -> newest.equals(firstRow()));
        assertThat(enabled("newer")).isFalse();
    }

    @Test
    @Order(8)
    void aLinkWithABrokenEscapeShowsTheApisAnswerNotTheViewBeforeFrozen() {
        open("#/jobs/%E0%A4%A");

        await(d -> text("#message") != null && text("#message").startsWith("400"));
    }

    @Test
    @Order(9)
    void aQueueNamedLikeAnObjectsPropertyIsShownLikeAnyOther() {
        // "constructor" is a queue name (a-z) and a property of every JavaScript object
        var response = http.post("/v1/jobs",
                "{\"type\": \"echo\", \"queue\": \"constructor\", \"delaySeconds\": 3600}");
        assertThat(response.status()).as(response.text()).isEqualTo(202);

        open("");

        var row = "#queues tbody tr[data-queue='constructor']";
        await(d -> "1".equals(text(row + " td[data-status='scheduled']")));
        assertThat(text(row + " td:last-child")).isEqualTo("0");
        assertThat(fresh(() -> browser.findElement(By.id("live")).getAttribute("class"))).doesNotContain("error");
    }

    @Test
    @Order(11)
    void aLongValueWithoutSpacesWrapsRatherThanWideningThePage() {
        // the contract's longest idempotency key, and a message as long as a worker's is kept
        var id = submit("{\"type\": \"fail\", \"maxAttempts\": 1, \"idempotencyKey\": \"" + "k".repeat(255)
                + "\", \"payload\": {\"message\": \"" + "x".repeat(8000) + "\", \"retryable\": false}}");

        open("#/jobs/" + id);

        await(d -> "FAILED".equals(statusShown()));
        assertThat((Long) browser.executeScript("return document.documentElement.scrollWidth"))
                .as("the page's width").isLessThanOrEqualTo(
                        (Long) browser.executeScript("return document.documentElement.clientWidth"));
    }

    /**
     * The page of a job that has ended, refreshed every 375 ms here (1.5 s by default), asks for its summary and
     * downloads it whole only once:
     * it downloaded the job whole at every refresh. The job list asks for summaries too.
     */
    @Test
    @Order(12)
    void aJobsPageDownloadsTheJobWholeOnlyWhenItChanged() {
        var id = submit("{\"type\": \"echo\", \"payload\": {\"big\": \"" + "b".repeat(100_000) + "\"}}");
        // the requests the page makes from here (the buffer holds 250 by default, long filled by the tests before)
        browser.executeScript("performance.clearResourceTimings(); performance.setResourceTimingBufferSize(10000)");
        open("#/jobs/" + id);
        await(d -> "SUCCEEDED".equals(statusShown()));
        awaitRefresh();
        // the dashboard's fetches are relative: ".../v1/jobs/<id>" whole, ".../v1/jobs/<id>?view=summary"
        var wholes = "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/v1/jobs/"
                + id + "')).length";
        var summaries = "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/v1/jobs/"
                + id + "?view=summary')).length";
        var wholesOnceEnded = (Long) browser.executeScript(wholes);
        var summariesOnceEnded = (Long) browser.executeScript(summaries);

        awaitRefresh();
        awaitRefresh();

        assertThat((Long) browser.executeScript(summaries)).isGreaterThan(summariesOnceEnded);
        assertThat((Long) browser.executeScript(wholes)).isEqualTo(wholesOnceEnded);
        assertThat(text("#payload")).contains("b".repeat(1000));
        assertThat(text("#result")).contains("b".repeat(1000));

        open("#/jobs?type=echo");
        await(d -> !d.findElements(By.cssSelector("#jobs tbody tr[data-id='" + id + "']")).isEmpty());
        assertThat((Long) browser.executeScript("return performance.getEntriesByType('resource')"
                + ".filter(e => e.name.includes('/v1/jobs?')).length")).isPositive();
        assertThat((Long) browser.executeScript("return performance.getEntriesByType('resource')"
                + ".filter(e => e.name.includes('/v1/jobs?') && !e.name.includes('view=summary')).length"))
                .isZero();
    }

    /** As on a job's page and the job list: a worker's id selected (to look for in its logs) stays selected. */
    @Test
    @Order(13)
    void theWorkersPageKeepsWhatTheUserSelectedWhileItRefreshes() {
        var worker = cluster.liveWorkers().getFirst().id();
        open("#/workers");
        var cell = "#workers tbody tr[data-worker='" + worker + "'] td:first-child";
        await(d -> !d.findElements(By.cssSelector(cell)).isEmpty());

        select(cell);
        awaitRefresh();
        awaitRefresh();

        assertThat(selected()).isEqualTo(worker);
        assertThat(text("#workers tbody tr[data-worker='" + worker + "'] td:last-child")).endsWith("ago");
    }

    /** The overview too: a queue's name selected stays selected while its counts change. */
    @Test
    @Order(14)
    void theOverviewKeepsWhatTheUserSelectedWhileItsCountsChange() {
        submit("{\"type\": \"echo\", \"delaySeconds\": 3600}");
        open("");
        var name = "#queues tbody tr[data-queue='default'] td:first-child";
        await(d -> !d.findElements(By.cssSelector(name)).isEmpty());
        var scheduled = "#queues tbody tr[data-queue='default'] td[data-status='scheduled']";
        var before = text(scheduled);

        select(name);
        submit("{\"type\": \"echo\", \"delaySeconds\": 3600}");
        await(d -> !String.valueOf(text(scheduled)).equals(before));
        awaitRefresh();

        assertThat(selected()).isEqualTo("default");
    }

    private static String firstRow() {
        return fresh(() -> {
            var rows = browser.findElements(By.cssSelector("#jobs tbody tr[data-id]"));
            return rows.isEmpty() ? null : rows.getFirst().getAttribute("data-id");
        });
    }

    /** The first row's job once the list shows one and it is none of {@code ids}; null until then. */
    private static String firstRowOtherThan(String... ids) {
        var first = firstRow();
        return first == null || List.of(ids).contains(first) ? null : first;
    }

    private static void select(String css) {
        browser.executeScript("const range = document.createRange();"
                + "range.selectNodeContents(document.querySelector(arguments[0]));"
                + "getSelection().removeAllRanges(); getSelection().addRange(range);", css);
        assertThat(selected()).as("selected").isNotEmpty();
    }

    private static String selected() {
        return (String) browser.executeScript("return getSelection().toString()");
    }

    /** Waits until the page has refreshed its view (each refresh says when in the status line). */
    private static void awaitRefresh() {
        var before = text("#live");
        await(d -> !String.valueOf(text("#live")).equals(before));
    }

    static final String ADMIN = "cvk_dashboard-admin-0123456789abcdef0123456789abcdef";
    static final String ACME_READER = "cvk_dashboard-acme-ro-0123456789abcdef0123456789abcdef";
    static final String ACME_WRITER = "cvk_dashboard-acme-wo-0123456789abcdef0123456789abcdef";
    static final String GLOBEX = "cvk_dashboard-globex-0123456789abcdef0123456789abcdef";

    @Test
    @Order(20)
    void withApiKeysThePageAsksForOneAndATenantSeesOnlyItsOwnJobs() throws Exception {
        keyed.awaitHealthy();
        var api = new HttpJson(keyed.baseUrl());
        var acmeJob = submitted(api.withKey(ACME_WRITER).post("/v1/jobs",
                "{\"type\": \"acme-report\", \"queue\": \"reports\", \"payload\": {\"for\": \"acme\"}}"));
        var globexJob = submitted(api.withKey(GLOBEX).post("/v1/jobs",
                "{\"type\": \"globex-report\", \"queue\": \"reports\", \"payload\": {\"for\": \"globex\"}}"));

        // another origin than the open api's: its own sessionStorage, so no key yet
        browser.get(keyed.baseUrl() + "/#/jobs");
        await(d -> d.findElement(By.id("key-prompt")).isDisplayed());
        assertThat(browser.findElement(By.id("api-key")).getAttribute("type")).isEqualTo("password");
        useKey("cvk_not-a-key");
        await(d -> d.findElement(By.id("key-prompt")).isDisplayed()
                && text("#key-message").contains("refused"));

        useKey(ACME_READER);
        var acmeRow = "#jobs tbody tr[data-id='" + acmeJob + "']";
        await(d -> !d.findElements(By.cssSelector(acmeRow)).isEmpty());
        assertThat(browser.findElements(By.cssSelector("#jobs tbody tr[data-id='" + globexJob + "']"))).isEmpty();
        assertThat(text("#jobs tbody")).doesNotContain("globex-report");
        assertThat(browser.findElement(By.id("forget-key")).isDisplayed()).isTrue();
        assertThat(browser.executeScript("return sessionStorage.getItem('conveyor.apiKey')")).isEqualTo(ACME_READER);
        assertThat(browser.executeScript("return localStorage.length")).isEqualTo(0L);

        // a key without admin filters by queue too: it types one (the queues offered come from the admin-only stats)
        var queueFilter = "form.filters input[name='queue']";
        browser.findElement(By.cssSelector(queueFilter)).sendKeys("emails", Keys.ENTER);
        await(d -> d.getCurrentUrl().contains("queue=emails")
                && String.valueOf(text("#jobs tbody")).contains("No jobs match."));
        // (selected and typed over: clear() would change the filter, and the page, on its own)
        browser.findElement(By.cssSelector(queueFilter)).sendKeys(Keys.chord(Keys.CONTROL, "a"), "reports", Keys.ENTER);
        await(d -> d.getCurrentUrl().contains("queue=reports") && !d.findElements(By.cssSelector(acmeRow)).isEmpty());

        // another tenant's job does not exist for this key
        open(keyed, "#/jobs/" + globexJob);
        await(d -> text("#message") != null && text("#message").startsWith("404"));
        assertThat(text("#payload")).doesNotContain("globex");

        // no admin scope: the overview and workers pages say so
        for (var page : List.of("#/", "#/workers")) {
            open(keyed, page);
            await(d -> text("#no-admin") != null);
            assertThat(text("#no-admin")).contains("no admin scope");
        }

        browser.findElement(By.id("forget-key")).click();
        await(d -> d.findElement(By.id("key-prompt")).isDisplayed());
        assertThat(browser.executeScript("return sessionStorage.getItem('conveyor.apiKey')")).isNull();

        useKey(ADMIN);
        open(keyed, "#/");
        var row = "#queues tbody tr[data-queue='reports']";
        await(d -> !d.findElements(By.cssSelector(row)).isEmpty());
        assertThat(browser.findElements(By.id("no-admin"))).isEmpty();
        open(keyed, "#/jobs?queue=reports");
        await(d -> !d.findElements(By.cssSelector("#jobs tbody tr[data-id='" + globexJob + "']")).isEmpty());
        assertThat(browser.findElements(By.cssSelector(acmeRow))).isNotEmpty();
    }

    @SafeVarargs
    private static String[] keys(List<String>... keys) {
        var args = new java.util.ArrayList<String>();
        for (var i = 0; i < keys.length; i++) {
            for (var setting : keys[i]) {
                args.add("--conveyor.api.auth.keys[" + i + "]." + setting);
            }
        }
        return args.toArray(String[]::new);
    }

    private static List<String> key(String id, String tenant, String key, String scopes) {
        return List.of("id=" + id, "tenant=" + tenant, "scopes=" + scopes, "hash=" + KeyHash.of(key));
    }

    private static String submitted(HttpJson.Response response) {
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json().get("id").asString();
    }

    private static void useKey(String key) {
        var input = browser.findElement(By.id("api-key"));
        input.clear();
        input.sendKeys(key);
        browser.findElement(By.id("use-key")).click();
    }

    private static void open(FaultCluster.Api api, String hash) {
        browser.get(api.baseUrl() + "/" + hash);
    }

    private static String statusShown() {
        return fresh(() -> {
            var found = browser.findElements(By.id("job-status"));
            return found.isEmpty() ? null : found.getFirst().getAttribute("data-status");
        });
    }

    private static void click(String id) {
        fresh(() -> {
            browser.findElement(By.id(id)).click();
            return id;
        });
    }

    private static boolean enabled(String id) {
        return fresh(() -> browser.findElement(By.id(id)).isEnabled());
    }
}
