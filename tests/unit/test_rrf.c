/* tests/unit/test_rrf.c -- reciprocal rank fusion (shared/rrf.c): scores computed by hand,
 * best ranks per leg, weights, ties, and units seen by one leg only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../shared/rrf.c"

static void test_scores_by_hand(void **state)
{
    (void)state;
    struct rrf f;
    rrf_init(&f, 60);
    const int64_t bm25[] = {10, 20, 30}, dense[] = {20, 40};
    assert_int_equal(rrf_add(&f, RRF_BM25, 1.0, bm25, 3), 0);
    assert_int_equal(rrf_add(&f, RRF_DENSE, 0.5, dense, 2), 0);
    rrf_sort(&f);
    assert_int_equal(f.n, 4);
    /* 20: 1/62 + 0.5/61; 10: 1/61; 30: 1/63; 40: 0.5/62 */
    assert_int_equal(f.items[0].id, 20);
    assert_true(f.items[0].score > 1.0 / 62 + 0.5 / 61 - 1e-12 &&
                f.items[0].score < 1.0 / 62 + 0.5 / 61 + 1e-12);
    assert_int_equal(f.items[0].rank[RRF_BM25], 2);
    assert_int_equal(f.items[0].rank[RRF_DENSE], 1);
    assert_int_equal(f.items[1].id, 10);
    assert_int_equal(f.items[1].rank[RRF_DENSE], 0);
    assert_int_equal(f.items[2].id, 30);
    assert_int_equal(f.items[3].id, 40);
    assert_int_equal(f.items[3].rank[RRF_BM25], 0);
    rrf_free(&f);
}

static void test_best_rank_over_lists(void **state)
{
    (void)state;
    struct rrf f;
    rrf_init(&f, 1);
    const int64_t a[] = {1, 2}, b[] = {2, 1}; /* two sub-queries of the same leg */
    rrf_add(&f, RRF_BM25, 1, a, 2);
    rrf_add(&f, RRF_BM25, 1, b, 2);
    rrf_sort(&f);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.items[0].rank[RRF_BM25], 1);
    assert_int_equal(f.items[1].rank[RRF_BM25], 1);
    assert_true(f.items[0].score == f.items[1].score);
    assert_int_equal(f.items[0].id, 1); /* tie: smaller id first */
    rrf_free(&f);
}

static void test_zero_weight_and_empty(void **state)
{
    (void)state;
    struct rrf f;
    rrf_init(&f, 60);
    rrf_sort(&f);
    assert_int_equal(f.n, 0);
    const int64_t ids[] = {5, 6, 7};
    rrf_add(&f, RRF_DENSE, 0, ids, 3); /* weight 0: present, ranked, no score */
    rrf_sort(&f);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.items[0].id, 5); /* ties broken by best rank */
    assert_int_equal(f.items[2].id, 7);
    rrf_free(&f);
}

static void test_many(void **state)
{
    (void)state;
    struct rrf f;
    rrf_init(&f, 60);
    int64_t ids[1000];
    for (int i = 0; i < 1000; i++)
        ids[i] = 1000 - i;
    assert_int_equal(rrf_add(&f, RRF_BM25, 1, ids, 1000), 0);
    rrf_sort(&f);
    for (size_t i = 1; i < f.n; i++)
        assert_true(f.items[i - 1].score >= f.items[i].score);
    assert_int_equal(f.items[0].id, 1000);
    rrf_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_by_hand),
        cmocka_unit_test(test_best_rank_over_lists),
        cmocka_unit_test(test_zero_weight_and_empty),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
