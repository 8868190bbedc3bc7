// The performance counters read the timing model: an execute counter counts exactly the
// cycles the array streams, a DMA counter grows while loads are in flight and stops with a
// snapshot, the load reservation station holds the loads not yet done, the DMA's byte count
// is the bytes loaded, and a reset zeroes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#define N 8

static void fail(const char *what, long got) {
  printf("%s (got %ld)\n", what, got);
  exit(1);
}

int main() {
  static elem_t In[N][DIM][DIM];
  gemmini_flush(0);
  gemmini_config_ld(DIM * sizeof(elem_t));

  // four independent DIM-row WS computes keep the array busy 4 * DIM cycles
  counter_configure(1, EXE_ACTIVE_CYCLE, false);
  gemmini_config_ex(WEIGHT_STATIONARY, NO_ACTIVATION, 0);
  for (int i = 0; i < 4; i++) {
    gemmini_preload(GARBAGE_ADDR, (1u << 31) + i * DIM);
    gemmini_compute_preloaded(GARBAGE_ADDR, GARBAGE_ADDR);
  }
  gemmini_fence();
  if (counter_read(1) != 4 * DIM) fail("execute counter is not 4 * DIM", counter_read(1));

  counter_configure(0, RDMA_ACTIVE_CYCLE, false);
  counter_configure(7, RESERVATION_STATION_LD_COUNT, true);
  counter_configure(6, RDMA_BYTES_REC, true);
  if (counter_read(0) != 0) fail("a fresh counter is not 0", counter_read(0));
  for (int n = 0; n < N; n++) gemmini_mvin(In[n], n * DIM);
  const uint32_t in_station = counter_read(7);
  if (in_station < 2 || in_station > 8) fail("loads in the reservation station", in_station);
  const uint32_t early = counter_read(0);
  if (early == 0) fail("the DMA counter did not move while loads were in flight", early);
  counter_snapshot_take();
  const uint32_t frozen = counter_read(0);
  gemmini_fence();
  if (counter_read(0) != frozen) fail("a snapshot changed", counter_read(0));
  if (counter_read(7) != in_station) fail("the snapshot of the station changed", counter_read(7));
  counter_snapshot_reset();
  if (counter_read(7) != 0) fail("loads left in the station after a fence", counter_read(7));
  if (counter_read(6) != N * DIM * DIM * sizeof(elem_t)) fail("bytes received", counter_read(6));
  const uint32_t total = counter_read(0);
  if (total <= frozen) fail("the DMA counter stopped at the snapshot", total);
  counter_reset();
  if (counter_read(0) != 0 || counter_read(1) != 0) fail("a reset left a count", counter_read(0));
  exit(0);
}
