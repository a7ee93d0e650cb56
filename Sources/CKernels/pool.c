// Persistent worker pool (see include/ramk_pool.h).
//
// Protocol: the caller holds `run_lock` for the whole run. It publishes the job (fn, ctx, n,
// next = 0, pending = number of pool threads), then increments `gen` (release). Every pool
// thread that sees a new `gen` takes task indices from `next` until they run out and then
// decrements `pending`; the caller takes indices too and returns once `pending` is 0. So no
// pool thread can still be reading a job when the next one is published. Idle threads spin on
// `gen` for `spin_ns`, then sleep on a condition variable (`sleepers` tells the caller to wake
// them).
#include "ramk_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 63

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

static int nthreads = 0;                 // pool threads created (guarded by run_lock)
static _Atomic long gen = 0;
static _Atomic long next_index = 0;
static _Atomic int pending = 0;
static _Atomic int sleepers = 0;
static _Atomic long spin_ns = 200000;
static ramk_task_fn job_fn;
static void *job_ctx;
static long job_n;
static int job_workers;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

// In a child process after fork() the pool threads do not exist: start over there.
static void reset_in_child(void) {
    nthreads = 0;
    atomic_store(&sleepers, 0);
    pthread_mutex_init(&run_lock, NULL);
    pthread_mutex_init(&sleep_lock, NULL);
    pthread_cond_init(&wake, NULL);
}
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void install_atfork(void) { pthread_atfork(NULL, NULL, reset_in_child); }

static void take_tasks(void) {
    long i;
    while ((i = atomic_fetch_add_explicit(&next_index, 1, memory_order_relaxed)) < job_n) job_fn(job_ctx, i);
}

// A pool thread's start: its index (1 ... nthreads; the caller is 0) and the generation current
// when it was created (read by the creator, before the run that creates it publishes its job —
// reading `gen` in the new thread could already see that job and miss it).
typedef struct { int id; long gen; } start_t;

static void *worker_main(void *arg) {
    start_t start = *(start_t *)arg;
    free(arg);
    int id = start.id;
    long seen = start.gen;
    for (;;) {
        long g = atomic_load_explicit(&gen, memory_order_acquire);
        if (g == seen) {
            long limit = now_ns() + atomic_load_explicit(&spin_ns, memory_order_relaxed);
            int spins = 0;
            while ((g = atomic_load_explicit(&gen, memory_order_acquire)) == seen) {
                CPU_RELAX();
                if (++spins == 64) {
                    spins = 0;
                    if (now_ns() >= limit) break;
                }
            }
            if (g == seen) {
                pthread_mutex_lock(&sleep_lock);
                atomic_fetch_add(&sleepers, 1);
                while ((g = atomic_load_explicit(&gen, memory_order_acquire)) == seen) pthread_cond_wait(&wake, &sleep_lock);
                atomic_fetch_sub(&sleepers, 1);
                pthread_mutex_unlock(&sleep_lock);
            }
        }
        seen = g;
        if (id < job_workers) take_tasks();
        atomic_fetch_sub_explicit(&pending, 1, memory_order_release);
    }
    return NULL;
}

void ramk_pool_set_spin_us(long us) { atomic_store(&spin_ns, us < 0 ? 0 : us * 1000); }

void ramk_pool_run(long n, int workers, ramk_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (workers <= 1 || n <= 1 || pthread_mutex_trylock(&run_lock) != 0) {
        for (long i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    int want = workers - 1 < MAX_THREADS ? workers - 1 : MAX_THREADS;
    pthread_once(&atfork_once, install_atfork);
    if (nthreads < want) {
        // More threads than CPUs: spinning would only take CPU time from the threads that work.
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpus > 0 && want + 1 > cpus) atomic_store(&spin_ns, 0);
    }
    while (nthreads < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        start_t *st = malloc(sizeof *st);
        if (!st) { pthread_attr_destroy(&attr); break; }
        st->id = nthreads + 1;
        st->gen = atomic_load(&gen);
        int rc = pthread_create(&t, &attr, worker_main, st);
        pthread_attr_destroy(&attr);
        if (rc != 0) { free(st); break; }
        nthreads++;
    }
    if (nthreads == 0) {
        pthread_mutex_unlock(&run_lock);
        for (long i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_n = n;
    job_workers = want + 1 < nthreads + 1 ? want + 1 : nthreads + 1;
    atomic_store_explicit(&next_index, 0, memory_order_relaxed);
    atomic_store_explicit(&pending, nthreads, memory_order_relaxed);
    atomic_fetch_add(&gen, 1);   // seq_cst: ordered before the `sleepers` load below
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    take_tasks();
    long waits = 0;
    while (atomic_load_explicit(&pending, memory_order_acquire) > 0) {
        CPU_RELAX();
        if (++waits > 2000) sched_yield();   // a worker that has to be woken (or shares our CPU)
    }
    pthread_mutex_unlock(&run_lock);
}
