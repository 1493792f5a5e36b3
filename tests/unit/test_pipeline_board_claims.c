/* tests/unit/test_pipeline_board_claims.c — pipeline/board_claims.c: one identity is one board
 * whatever the instance, a held board parks its claimants in order, a release wakes exactly the
 * first of them, boards do not block each other, and a claim on a remote board makes the thread
 * demand one (the ssh client) unless `resources.cpus` says otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pipeline/board_claims.h"
#include "pipeline/executor.h"

static void test_park_and_wake(void **state) {
    (void)state;
    BoardClaims c;
    Err err;
    assert_int_equal(board_claims_init(&c, 6, &err), 0);
    assert_int_equal(board_claims_set(&c, 0, "ssh:a:22", "a", 1, &err), 0);
    assert_int_equal(board_claims_set(&c, 1, "ssh:a:22", "a-again", 1, &err), 0);
    assert_int_equal(board_claims_set(&c, 2, "ssh:b:22", "b", 1, &err), 0);
    assert_int_equal(board_claims_set(&c, 3, "ssh:a:22", "a", 1, &err), 0);
    assert_int_equal(board_claims_set(&c, 5, "local", "laptop", 0, &err), 0);
    assert_int_equal(c.n_boards, 3);
    assert_ptr_equal(board_claims_of(&c, 0), board_claims_of(&c, 3));
    assert_string_equal(board_claims_of(&c, 1)->name, "a"); /* the first claimant's name */
    assert_null(board_claims_of(&c, 4));
    assert_false(board_claims_of(&c, 5)->remote);

    board_claims_take(&c, 0);
    assert_false(board_claims_free_for(&c, 1));
    assert_false(board_claims_free_for(&c, 3));
    assert_true(board_claims_free_for(&c, 2)); /* another board */
    assert_true(board_claims_free_for(&c, 4)); /* no board */
    board_claims_park(&c, 3);
    board_claims_park(&c, 1);
    board_claims_take(&c, 2);
    assert_int_equal(board_claims_peek_woken(&c), BOARD_NONE);

    board_claims_release(&c, 3); /* not the holder: nothing changes */
    assert_false(board_claims_free_for(&c, 3));
    assert_int_equal(board_claims_peek_woken(&c), BOARD_NONE);

    board_claims_release(&c, 0);
    assert_int_equal(board_claims_peek_woken(&c), 3); /* parked first, woken first; 1 still waits */
    board_claims_release(&c, 2);                      /* nobody waits for b */
    assert_int_equal(board_claims_peek_woken(&c), 3);
    board_claims_pop_woken(&c);
    assert_int_equal(board_claims_peek_woken(&c), BOARD_NONE);
    assert_true(board_claims_free_for(&c, 3));
    board_claims_take(&c, 3);
    board_claims_release(&c, 3);
    assert_int_equal(board_claims_peek_woken(&c), 1);
    board_claims_pop_woken(&c);
    board_claims_take(&c, 1);
    board_claims_release(&c, 1);
    assert_int_equal(board_claims_peek_woken(&c), BOARD_NONE);
    assert_true(board_claims_free_for(&c, 0));
    board_claims_free(&c);
}

static void test_thread_demand(void **state) {
    (void)state;
    Resources none, cpus;
    resources_init(&none);
    resources_init(&cpus);
    cpus.cpus = 3;
    ExecJob local = {.threads = 4, .resources = &none, .platform = "local"};
    ExecJob remote = {.threads = 4, .resources = &none, .platform = "ssh:a:22", .platform_remote = 1};
    ExecJob remote_cpus = {.threads = 4, .resources = &cpus, .platform = "ssh:a:22", .platform_remote = 1};
    assert_int_equal(executor_thread_demand(&local, 8), 4);
    assert_int_equal(executor_thread_demand(&remote, 8), 1);
    assert_int_equal(executor_thread_demand(&remote_cpus, 8), 3);
    ExecLoad load = {.running = 1, .jobs = 4, .threads_in_use = 2, .budget = 2};
    assert_true(executor_admit_budget(NULL, &remote, &load) == 0); /* the budget is spent */
    load.threads_in_use = 1;
    assert_true(executor_admit_budget(NULL, &remote, &load)); /* 1 + 1 fits, its 4 board threads do not count */
    assert_false(executor_admit_budget(NULL, &local, &load));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_park_and_wake),
        cmocka_unit_test(test_thread_demand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
