/* SPDX-License-Identifier: MIT */
/*
 * A context across fork(), as a training script's workers use it: opened in
 * the parent, inherited by fork() children (DataLoader, multiprocessing,
 * Gunicorn) that close it, try to read it and measure with their own.
 *
 * The context sees a fake GPU (the fake libnvidia-ml.so.1 through the real
 * dlopen path) and a fake tree (tests/rig: an Intel powercap zone and an
 * amdgpu power sensor integrated by the sampler), so its sampler thread
 * runs and holds locks. In the child an inherited context must refuse
 * reads with JOULES_ERR_FORKED, close without blocking and without calling
 * NVML, and a new context must measure. Every child runs under a watchdog
 * (alarm): a hang is killed by SIGALRM and fails the case instead of
 * hanging the suite. No assertion on how long anything takes.
 *
 * The fake NVML, like the real one, holds one mutex through every call and
 * leaves it as it is in a child: a child forked while the parent's sampler
 * is inside a call would hang in its own nvmlInit. So fork() waits for the
 * call in flight (lib/backends/nvml/nvml_fork.c), up to a bound
 * ($JOULES_NVML_FORK_WAIT_MS, set here per case while no thread runs).
 */
#include <pthread.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "joules.h"
#include "testutil.h"

/* A child still running after this long hangs: SIGALRM ends it. */
#define WATCHDOG_S 120
/* fork()'s wait for a call in flight: longer than any case lets a call last. */
#define WAIT_LONG_MS "120000"
/* ... and shorter than a call the case holds until fork() returns. */
#define WAIT_SHORT_MS "100"
#define REPEAT 200
#define GPU_MW 200000u /* the fake GPU's power */
#define GPU_ID "nvml:GPU-fa4e0000-0000-4000-8000-000000000000"
#define PACKAGE_ID "rapl:package-0"
#define PACKAGE_FILE "class/powercap/intel-rapl:0/energy_uj"
#define AMDGPU_ID "hwmon:amdgpu:0000:0a:00.0:PPT"

static struct fakesys *tree;
static char config_path[256];

/* The fake's hooks for tests (tests/fake_nvml/fake_nvml.c). */
static unsigned long (*fake_calls)(void);
static int (*fake_inits)(void);
static void (*fake_pause)(int on);
static void (*fake_wait_paused)(void);

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The exit status of child pid: 0 when its checks passed; -1 when it was killed. */
static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st)) {
		printf("#   child %d killed by signal %d%s\n", (int)pid, WTERMSIG(st),
		       WTERMSIG(st) == SIGALRM ? " (the watchdog: it hung)" : "");
		return -1;
	}
	return WEXITSTATUS(st);
}

/* Start fn(arg) in a fork() child under the watchdog; its pid. */
static pid_t start_child(void (*fn)(void *), void *arg)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(WATCHDOG_S);
		harness_failures = 0;
		fn(arg);
		fflush(stdout);
		exit(harness_failures ? 1 : 0); /* exit, so LeakSanitizer checks the child */
	}
	return pid;
}

/* Run fn(arg) in a fork() child and check it passed. */
static int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid = start_child(fn, arg);
	int rc = pid > 0 ? wait_child(pid) : -1;
	CHECK_EQ_INT(rc, 0);
	return rc;
}

/*
 * A context whose sampler thread runs: it has a GPU and an integrated power
 * sensor. Returns once that thread has made an NVML call: a fork() while a
 * thread is still starting can copy the sanitizer's allocator lock held
 * (GCC 12's ASan takes no lock around fork), and the child's leak check at
 * exit would hang on it, a fault of the test rig and not of the library.
 */
static joules_ctx *open_ctx(void)
{
	joules_ctx *ctx = test_open(tree);
	if (!ctx)
		return NULL;
	test_find(ctx, GPU_ID);
	test_find(ctx, AMDGPU_ID);
	test_find(ctx, PACKAGE_ID);
	unsigned long calls = fake_calls();
	for (int k = 0; k < 10000 && fake_calls() == calls; k++) /* 20 ms, 10 s at most */
		sleep_ms(1);
	CHECK(fake_calls() > calls);
	return ctx;
}

static void settle_all(joules_ctx *ctx, struct joules_reading *a, struct joules_reading *b,
		       size_t n)
{
	int left = 1;
	/* joules_settle gives up on a reading after 1 s; this bounds a bug's loop. */
	for (int k = 0; k < 1000 && left > 0; k++) {
		left = joules_settle(ctx, a, n) + joules_settle(ctx, b, n);
		if (left > 0)
			sleep_ms(5);
	}
	CHECK_EQ_INT(left, 0);
}

/*
 * Measure a region with ctx: the package zone advanced by a known amount
 * (exact), the GPU at the fake's power over the readings' own interval
 * (within their uncertainty), the integrated amdgpu sensor (some energy).
 */
static void measure_region(joules_ctx *ctx)
{
	size_t n = joules_sensor_count(ctx);
	struct joules_reading *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	CHECK(a && b);
	int gpu = test_find(ctx, GPU_ID), pkg = test_find(ctx, PACKAGE_ID),
	    amd = test_find(ctx, AMDGPU_ID);
	if (!a || !b || gpu < 0 || pkg < 0 || amd < 0)
		goto out;
	CHECK_EQ_INT(joules_read(ctx, a, n), (int)n);
	CHECK_EQ_INT(fakesys_advance(tree, PACKAGE_FILE, 1234567, FAKESYS_RAPL_RANGE_UJ + 1), 0);
	sleep_ms(30);
	CHECK_EQ_INT(joules_read(ctx, b, n), (int)n);
	settle_all(ctx, a, b, n);
	uint64_t uj;
	CHECK_EQ_INT(joules_delta(&a[pkg], &b[pkg], &uj), 0);
	CHECK_EQ_U64(uj, 1234567);
	CHECK_EQ_INT(joules_delta(&a[gpu], &b[gpu], &uj), 0);
	double expect = (double)GPU_MW * (double)(b[gpu].time_ns - a[gpu].time_ns) / 1e6;
	double tol = a[gpu].uncertainty_uj + b[gpu].uncertainty_uj + expect / 100 + 5000;
	if (uj < expect - tol || uj > expect + tol)
		printf("#   GPU energy %" PRIu64 " µJ, expected %.0f ± %.0f\n", uj, expect, tol);
	CHECK(uj >= expect - tol && uj <= expect + tol);
	CHECK_EQ_INT(joules_delta(&a[amd], &b[amd], &uj), 0);
	CHECK(uj > 0);
out:
	free(a);
	free(b);
}

/* What an inherited context does in a child: describe, refuse, never call NVML. */
static void check_refused(joules_ctx *ctx, size_t n_parent)
{
	size_t n = joules_sensor_count(ctx);
	CHECK_EQ_U64(n, n_parent);
	CHECK(joules_sensor_find(ctx, GPU_ID) >= 0);
	CHECK_EQ_INT(joules_gpu_count(ctx), 1);
	struct joules_reading r[64];
	CHECK_EQ_INT(joules_read(ctx, r, n < 64 ? n : 64), JOULES_ERR_FORKED);
	CHECK_STR_HAS(joules_last_error(ctx), "joules_read: this context was opened by process");
	CHECK_STR_HAS(joules_last_error(ctx), "open a new context in the child");
	r[0] = (struct joules_reading){.flags = JOULES_READING_PROVISIONAL};
	CHECK_EQ_INT(joules_settle(ctx, r, 1), JOULES_ERR_FORKED);
	CHECK_STR_HAS(joules_last_error(ctx), "joules_settle: ");
	struct joules_gpu_info g = {.size = sizeof g};
	CHECK_EQ_INT(joules_gpu_info(ctx, 0, &g), JOULES_ERR_FORKED);
	CHECK_STR_HAS(joules_strerror(JOULES_ERR_FORKED), "fork");
	CHECK_EQ_U64(fake_calls(), 0);
}

struct inherited {
	joules_ctx *ctx;
	size_t n;
	bool measure; /* then open a context of its own and measure with it */
};

static void child_of_parent(void *arg)
{
	struct inherited *in = arg;
	check_refused(in->ctx, in->n);
	joules_close(in->ctx);
	CHECK_EQ_U64(fake_calls(), 0); /* closing called no NVML function */
	if (!in->measure)
		return;
	joules_ctx *own = open_ctx();
	if (!own)
		return;
	measure_region(own);
	joules_close(own);
	CHECK(fake_calls() > 0);       /* this one did use NVML, its own session */
	CHECK_EQ_INT(fake_inits(), 0); /* and shut it down */
}

/*
 * The reproduction (shared/cases/fork), many times over: children that
 * close the inherited context at every point of the sampler's cycle, then
 * children that also measure with their own; the parent's context still
 * measures after all of them.
 */
static void test_children_close_read_measure(void)
{
	joules_ctx *ctx = open_ctx();
	if (!ctx)
		return;
	struct inherited in = {ctx, joules_sensor_count(ctx), false};
	for (int i = 0; i < REPEAT; i++) {
		in.measure = i % 4 == 3;
		if (in_child(child_of_parent, &in) != 0) {
			printf("#   child %d of %d failed\n", i + 1, REPEAT);
			break;
		}
		sleep_ms(i % 7); /* fork at other points of the 20 ms sampling cycle */
	}
	measure_region(ctx);
	joules_close(ctx);
}

/*
 * Read ctx so that its sampler keeps fetching GPU samples (it does only
 * while something is measured, lib/sampler.h): the next fetch is the call
 * fake_pause() holds. Read before the pause is asked for, since a read
 * that wakes the GPU fetches on this thread.
 */
static void keep_sampling(joules_ctx *ctx, size_t n)
{
	struct joules_reading r[64];
	CHECK_EQ_INT(joules_read(ctx, r, n < 64 ? n : 64), (int)(n < 64 ? n : 64));
}

/* Let the paused NVML call return after 100 ms, from another thread. */
static void *let_call_return(void *arg)
{
	(void)arg;
	sleep_ms(100);
	fake_pause(0);
	return NULL;
}

/*
 * fork() while the sampler is inside a slow NVML call: it waits inside
 * nvmlDeviceGetSamples (holding the GPU's lock and NVML's) when fork() is
 * called, and returns 100 ms later. fork() waits for it, so the child's own
 * context opens and measures; had fork() not waited, the child's nvmlInit
 * would hang on the fake's copied mutex (the watchdog ends it).
 */
static void test_fork_during_slow_call(void)
{
	setenv("JOULES_NVML_FORK_WAIT_MS", WAIT_LONG_MS, 1);
	joules_ctx *ctx = open_ctx();
	if (!ctx)
		return;
	struct inherited in = {ctx, joules_sensor_count(ctx), true};
	for (int i = 0; i < 10; i++) {
		keep_sampling(ctx, in.n);
		fake_pause(1);
		fake_wait_paused();
		pthread_t t;
		CHECK_EQ_INT(pthread_create(&t, NULL, let_call_return, NULL), 0);
		pid_t pid = start_child(child_of_parent, &in);
		pthread_join(t, NULL);
		int rc = pid > 0 ? wait_child(pid) : -1;
		CHECK_EQ_INT(rc, 0);
		if (rc != 0)
			break;
	}
	measure_region(ctx);
	joules_close(ctx);
	unsetenv("JOULES_NVML_FORK_WAIT_MS");
}

/* A context opened in a child forked during a call that outlived the wait. */
static void check_nvml_refused_here(void)
{
	joules_ctx *own = test_open(tree);
	if (!own)
		return;
	CHECK(joules_sensor_find(own, GPU_ID) < 0);
	CHECK_EQ_INT(joules_gpu_count(own), JOULES_ERR_FORKED);
	const char *note = NULL;
	for (size_t i = 0; i < joules_source_count(own); i++)
		if (!strcmp(joules_source_name(own, i), "nvml"))
			note = joules_source_note(own, i);
	CHECK(note != NULL);
	if (note) {
		CHECK_STR_HAS(note, "NVML is not used in this process");
		CHECK_STR_HAS(note, "inside an NVML call that had not returned after 100 ms");
		CHECK_STR_HAS(note, "fork when no NVML call is in flight");
	}
	/* The other sensors measure: the package zone, exactly. */
	int pkg = test_find(own, PACKAGE_ID);
	size_t n = joules_sensor_count(own);
	struct joules_reading *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
	CHECK(a && b);
	if (pkg >= 0 && a && b) {
		CHECK_EQ_INT(joules_read(own, a, n), (int)n);
		CHECK_EQ_INT(fakesys_advance(tree, PACKAGE_FILE, 7654321,
					     FAKESYS_RAPL_RANGE_UJ + 1), 0);
		CHECK_EQ_INT(joules_read(own, b, n), (int)n);
		uint64_t uj;
		CHECK_EQ_INT(joules_delta(&a[pkg], &b[pkg], &uj), 0);
		CHECK_EQ_U64(uj, 7654321);
	}
	free(a);
	free(b);
	joules_close(own);
	CHECK_EQ_U64(fake_calls(), 0); /* not one NVML call in this process */
}

static void grandchild_of_hung(void *arg)
{
	(void)arg;
	check_nvml_refused_here();
}

static void child_of_hung(void *arg)
{
	struct inherited *in = arg;
	check_refused(in->ctx, in->n);
	joules_close(in->ctx);
	check_nvml_refused_here();
	/* Its own children inherit the mark: NVML's lock is still copied held. */
	in_child(grandchild_of_hung, NULL);
}

/*
 * fork() while an NVML call hangs (a hung GPU): the call waits until after
 * fork() has returned. fork() gives up waiting after the bound and goes on;
 * the child's own context calls no NVML function and its note says why,
 * instead of hanging in nvmlInit. The parent measures after.
 */
static void test_fork_during_hung_call(void)
{
	setenv("JOULES_NVML_FORK_WAIT_MS", WAIT_SHORT_MS, 1);
	joules_ctx *ctx = open_ctx();
	if (!ctx)
		return;
	struct inherited in = {ctx, joules_sensor_count(ctx), false};
	for (int i = 0; i < 3; i++) {
		keep_sampling(ctx, in.n);
		fake_pause(1);
		fake_wait_paused();
		pid_t pid = start_child(child_of_hung, &in);
		fake_pause(0);
		int rc = pid > 0 ? wait_child(pid) : -1;
		CHECK_EQ_INT(rc, 0);
		if (rc != 0)
			break;
	}
	measure_region(ctx);
	joules_close(ctx);
	unsetenv("JOULES_NVML_FORK_WAIT_MS");
}

struct two {
	joules_ctx *parent, *child;
	size_t n;
};

/* The grandchild: both inherited contexts refused and closed; its own measures. */
static void grandchild(void *arg)
{
	struct two *t = arg;
	check_refused(t->parent, t->n);
	check_refused(t->child, t->n);
	joules_close(t->parent);
	joules_close(t->child);
	CHECK_EQ_U64(fake_calls(), 0);
	joules_ctx *own = open_ctx();
	if (own) {
		measure_region(own);
		joules_close(own);
	}
}

/* The child: opens its own, forks a grandchild while both run, still measures after. */
static void child_forking(void *arg)
{
	struct inherited *in = arg;
	check_refused(in->ctx, in->n);
	struct two t = {in->ctx, open_ctx(), in->n};
	if (!t.child)
		return;
	for (int i = 0; i < 10; i++)
		if (in_child(grandchild, &t) != 0)
			break;
	measure_region(t.child);
	joules_close(t.child);
	joules_close(in->ctx);
	CHECK_EQ_INT(fake_inits(), 0);
}

/* A child of a child: each generation refuses what its ancestors opened. */
static void test_child_of_child(void)
{
	joules_ctx *ctx = open_ctx();
	if (!ctx)
		return;
	struct inherited in = {ctx, joules_sensor_count(ctx), false};
	in_child(child_forking, &in);
	measure_region(ctx);
	joules_close(ctx);
}

static const struct test tests[] = {
	TEST(test_children_close_read_measure),
	TEST(test_fork_during_slow_call),
	TEST(test_fork_during_hung_call),
	TEST(test_child_of_child),
};

static void *load_fake(const char *dir)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/libnvidia-ml.so.1", dir);
	setenv("JOULES_NVML_LIBRARY", path, 1);
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		return NULL;
	*(void **)&fake_calls = dlsym(dl, "fake_nvml_calls");
	*(void **)&fake_inits = dlsym(dl, "fake_nvml_init_count");
	*(void **)&fake_pause = dlsym(dl, "fake_nvml_pause");
	*(void **)&fake_wait_paused = dlsym(dl, "fake_nvml_wait_paused");
	if (!fake_calls || !fake_inits || !fake_pause || !fake_wait_paused) {
		dlclose(dl);
		return NULL;
	}
	return dl;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FAKE_NVML_DIR\n", argv[0]);
		return 2;
	}
	void *dl = load_fake(argv[1]);
	if (!dl) {
		fprintf(stderr, "test_fork: cannot load the fake NVML from %s: %s\n", argv[1],
			dlerror());
		return 2;
	}
	char dir[] = "/tmp/joules-fork-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	snprintf(config_path, sizeof config_path, "%s/config", dir);
	FILE *f = fopen(config_path, "w");
	if (!f)
		return 2;
	fprintf(f, "gpus 1\npower_mw 0 %u\n", GPU_MW);
	fclose(f);
	setenv("FAKE_NVML_CONFIG", config_path, 1);
	tree = TEST_TREE("intel-2s", "hwmon-amdgpu");
	int rc = run_tests(tests, sizeof tests / sizeof tests[0]);
	fakesys_free(tree);
	unlink(config_path);
	rmdir(dir);
	dlclose(dl);
	return rc;
}
