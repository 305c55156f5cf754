/* tests/unit/test_breaker.c -- the circuit breaker (shared/breaker.c) driven by a fake clock:
 * it opens after the threshold of consecutive failures (a success in between resets the
 * count), refuses while open, lets exactly one probe through after open_ms, closes on the
 * probe's success and opens again on its failure; a cancelled probe lets the next call probe;
 * counters for the metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../shared/breaker.c"
#include "../../shared/log.c"

static void test_opens_after_threshold(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, "embedder", 3, 1000);
    uint64_t t = 5000;
    for (int i = 0; i < 2; i++) {
        assert_true(breaker_allow(&b, t));
        breaker_failure(&b, t);
    }
    assert_true(breaker_allow(&b, t));
    breaker_success(&b); /* resets the run of failures */
    for (int i = 0; i < 2; i++) {
        assert_true(breaker_allow(&b, t));
        breaker_failure(&b, t);
    }
    assert_int_equal(breaker_state_at(&b, t), BREAKER_CLOSED);
    assert_true(breaker_allow(&b, t));
    breaker_failure(&b, t);
    assert_int_equal(breaker_state_at(&b, t), BREAKER_OPEN);
    assert_int_equal(b.n_opened, 1);
    for (int i = 0; i < 5; i++)
        assert_false(breaker_allow(&b, t + 999));
    assert_int_equal(b.n_rejected, 5);
    assert_string_equal(breaker_state_name(breaker_state_at(&b, t + 999)), "open");
    assert_string_equal(breaker_state_name(breaker_state_at(&b, t + 1000)), "half_open");
}

static void test_probe_success_closes(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, "generator", 1, 100);
    breaker_failure(&b, 0);
    assert_false(breaker_allow(&b, 50));
    assert_true(breaker_allow(&b, 100));  /* the probe */
    assert_false(breaker_allow(&b, 101)); /* one at a time */
    assert_false(breaker_allow(&b, 500));
    breaker_success(&b);
    assert_int_equal(breaker_state_at(&b, 500), BREAKER_CLOSED);
    assert_true(breaker_allow(&b, 501));
    assert_true(breaker_allow(&b, 501));
}

static void test_probe_failure_reopens(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, "embedder", 2, 100);
    breaker_failure(&b, 0);
    breaker_failure(&b, 0);
    assert_true(breaker_allow(&b, 150));
    breaker_failure(&b, 150); /* the probe failed: open for another open_ms from now */
    assert_int_equal(breaker_state_at(&b, 200), BREAKER_OPEN);
    assert_false(breaker_allow(&b, 249));
    assert_true(breaker_allow(&b, 250));
    assert_int_equal(b.n_opened, 2);
}

static void test_cancelled_probe(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, "embedder", 1, 100);
    breaker_failure(&b, 0);
    assert_true(breaker_allow(&b, 100));
    assert_false(breaker_allow(&b, 100));
    breaker_release(&b); /* the probe's client went away: no outcome */
    assert_true(breaker_allow(&b, 101));
    breaker_success(&b);
    assert_int_equal(breaker_state_at(&b, 101), BREAKER_CLOSED);
}

static void test_late_failure_while_open(void **state)
{
    (void)state;
    struct breaker b;
    breaker_init(&b, "embedder", 1, 100);
    breaker_failure(&b, 0);
    breaker_failure(&b, 60); /* a call from before it opened ends late: the open period holds */
    assert_int_equal(breaker_state_at(&b, 100), BREAKER_HALF_OPEN);
    assert_int_equal(b.n_opened, 1);
    breaker_configure(&b, 0, 10); /* a zero threshold means 1 */
    assert_int_equal(b.threshold, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_after_threshold),   cmocka_unit_test(test_probe_success_closes),
        cmocka_unit_test(test_probe_failure_reopens),   cmocka_unit_test(test_cancelled_probe),
        cmocka_unit_test(test_late_failure_while_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
