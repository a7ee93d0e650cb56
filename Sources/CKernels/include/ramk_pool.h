// A small persistent worker pool for RAMTensor's parallel regions.
//
// DispatchQueue.concurrentPerform wakes a sleeping worker thread for every region; on the 2-vCPU
// VM this project runs on that costs ~50 µs per region back to back and ~240 µs after a pause.
// Here the pool's workers spin (with `pause`) for a short while after each region before they
// sleep, so back-to-back regions start at once.
#ifndef RAMK_POOL_H
#define RAMK_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

/// One task: `fn(ctx, index)`.
typedef void (*ramk_task_fn)(void *ctx, long index);

/// Runs fn(ctx, i) for every i in [0, n), handed out dynamically to the calling thread and up to
/// `workers - 1` pool threads (created on first use), and returns when all calls are done.
/// Runs everything on the calling thread when workers <= 1, n <= 1, the threads cannot be
/// created, or another thread is already inside a run (runs do not nest or overlap).
void ramk_pool_run(long n, int workers, ramk_task_fn fn, void *ctx);

/// How long (microseconds) an idle pool thread spins before it sleeps (default 200).
void ramk_pool_set_spin_us(long us);

#ifdef __cplusplus
}
#endif
#endif
