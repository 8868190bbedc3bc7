/* sim_arith.h: Gemmini's datapath arithmetic, bit-exact with the functional model.
 *
 * int8 config: scales are float32; scaling multiplies in float32 (the int32 value is
 * converted to float first, as the hardware's float multiplier does), rounds to nearest
 * even and saturates to int8. Rounding right shifts (OS results to the scratchpad) round to
 * nearest even too (RISC-V vxrm = rne). Accumulation wraps at 32 bits like the hardware
 * adders (the core is compiled with -fwrapv).
 * fp32 config: plain float32 operations, no saturation, shifts are no-ops. */
#ifndef SIM_ARITH_H
#define SIM_ARITH_H

#include <math.h>
#include "sim_internal.h"

#ifdef ELEM_T_IS_FLOAT

static inline elem_t scale_to_elem(float x, float scale) { return x * scale; }
static inline elem_t sat_elem(acc_t x) { return x; }
static inline acc_t rounding_shift(acc_t x, uint32_t shift) { (void)shift; return x; }

#else

/* round-to-nearest-even of a float, saturated to the int8 range; NaN reads as 0 */
static inline elem_t rne_sat_elem(float y) {
  if (y != y) return 0;
  y = nearbyintf(y);  /* default rounding mode: nearest, ties to even */
  if (y > (float)ELEM_T_MAX) return ELEM_T_MAX;
  if (y < (float)ELEM_T_MIN) return ELEM_T_MIN;
  return (elem_t)y;
}
static inline elem_t scale_to_elem(acc_t x, float scale) { return rne_sat_elem((float)x * scale); }
static inline elem_t sat_elem(acc_t x) {
  return x > ELEM_T_MAX ? ELEM_T_MAX : (x < ELEM_T_MIN ? ELEM_T_MIN : (elem_t)x);
}
static inline acc_t rounding_shift(acc_t x, uint32_t shift) {
  if (shift == 0) return x;
  const acc_t q = x >> shift;
  const acc_t round_bit = (x >> (shift - 1)) & 1;
  const acc_t sticky = shift <= 1 ? 0 : ((x & (((acc_t)1 << (shift - 1)) - 1)) != 0);
  return q + (round_bit & (sticky | (q & 1)));
}

#endif

static inline elem_t activate(elem_t x, int act) {
  return (act == 1 && x < 0) ? (elem_t)0 : x;
}

#endif
