// gemmini_testutils.h for gemmini_runtime: the helpers Gemmini's tests use.
// read_cycles() returns the simulator's cycle count (the host CPU's cycle in the model).
#ifndef SRC_MAIN_C_GEMMINI_TESTUTILS_H
#define SRC_MAIN_C_GEMMINI_TESTUTILS_H

#include <stdint.h>
#include <stddef.h>
#include <assert.h>
#include <stdlib.h>
#include <stdio.h>
#include <limits.h>
#include <stdbool.h>

#include "include/gemmini_params.h"
#include "include/gemmini.h"

#ifdef ELEM_T_IS_FLOAT
#define GEMMINI_ELEM_FMT "%f "
#else
#define GEMMINI_ELEM_FMT "%d "
#endif

#define MAT_IS_EQUAL(dim_i, dim_j, x, y) \
    ({ int result_ = 1; \
       for (size_t i_ = 0; i_ < (size_t)(dim_i) && result_; i_++) \
         for (size_t j_ = 0; j_ < (size_t)(dim_j); ++j_) \
           if ((x)[i_][j_] != (y)[i_][j_]) { result_ = 0; break; } \
       result_; })

static inline uint64_t read_cycles() { return gemmini_sim_read_cycles(); }

static inline elem_t saturate(full_t x) {
#ifdef ELEM_T_IS_FLOAT
  return (elem_t)x;
#else
  return x > elem_t_max ? elem_t_max : (x < elem_t_min ? elem_t_min : (elem_t)x);
#endif
}

// C_full = op(A) * op(B) + D, op = identity or transpose
static inline void gemmini_ref_matmul(elem_t A[DIM][DIM], elem_t B[DIM][DIM], bool a_t, bool b_t,
    elem_t D[DIM][DIM], full_t D_full[DIM][DIM], full_t C_full[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      C_full[r][c] = D != NULL ? (full_t)D[r][c] : D_full[r][c];
      for (size_t k = 0; k < DIM; k++)
        C_full[r][c] += (full_t)(a_t ? A[k][r] : A[r][k]) * (b_t ? B[c][k] : B[k][c]);
    }
}

// C_full = A * B + D
static inline void matmul(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, false, false, D, NULL, C_full);
}

// C = A * B + D in elem_t arithmetic (wraps like the type)
static inline void matmul_short(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM], elem_t C[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      C[r][c] = D[r][c];
      for (size_t k = 0; k < DIM; k++) C[r][c] += A[r][k] * B[k][c];
    }
}

// C_full = A * B + D with a full-width D
static inline void matmul_full(elem_t A[DIM][DIM], elem_t B[DIM][DIM], full_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, false, false, NULL, D, C_full);
}

// the full-width-D forms of the transposed references (OS accumulates onto a full_t D)
static inline void matmul_full_A_transposed(elem_t A[DIM][DIM], elem_t B[DIM][DIM], full_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, true, false, NULL, D, C_full);
}

static inline void matmul_full_B_transposed(elem_t A[DIM][DIM], elem_t B[DIM][DIM], full_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, false, true, NULL, D, C_full);
}

static inline void matmul_full_AB_transposed(elem_t A[DIM][DIM], elem_t B[DIM][DIM], full_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, true, true, NULL, D, C_full);
}

static inline void matmul_A_transposed(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, true, false, D, NULL, C_full);
}

static inline void matmul_B_transposed(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, false, true, D, NULL, C_full);
}

static inline void matmul_AB_transposed(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM], full_t C_full[DIM][DIM]) {
  gemmini_ref_matmul(A, B, true, true, D, NULL, C_full);
}

static inline void matadd(full_t sum[DIM][DIM], full_t m1[DIM][DIM], full_t m2[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) sum[r][c] = m1[r][c] + m2[r][c];
}

// out = saturate(round-to-nearest-even(full >> shift))
static inline void matshift(full_t full[DIM][DIM], elem_t out[DIM][DIM], int shift) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
#ifdef ELEM_T_IS_FLOAT
      (void)shift;
      out[r][c] = (elem_t)full[r][c];
#else
      const full_t shifted = ROUNDING_RIGHT_SHIFT(full[r][c], shift);
      out[r][c] = saturate(shifted);
#endif
    }
}

// out = ACC_SCALE(full, scale), saturated
static inline void matscale(full_t full[DIM][DIM], elem_t out[DIM][DIM], acc_scale_t scale) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      const acc_t scaled = ACC_SCALE((acc_t)full[r][c], scale);
      out[r][c] = saturate(scaled);
    }
}

static inline void matrelu(elem_t in[DIM][DIM], elem_t out[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) out[r][c] = in[r][c] > 0 ? in[r][c] : 0;
}

static inline void transpose(elem_t in[DIM][DIM], elem_t out[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) out[c][r] = in[r][c];
}

static inline int is_equal(elem_t x[DIM][DIM], elem_t y[DIM][DIM]) {
  for (size_t i = 0; i < DIM; i++)
    for (size_t j = 0; j < DIM; j++)
      if (x[i][j] != y[i][j]) return 0;
  return 1;
}

static inline int is_equal_transposed(elem_t x[DIM][DIM], elem_t y[DIM][DIM]) {
  for (size_t i = 0; i < DIM; i++)
    for (size_t j = 0; j < DIM; j++)
      if (x[i][j] != y[j][i]) return 0;
  return 1;
}

static inline void printMatrix(elem_t m[DIM][DIM]) {
  for (size_t i = 0; i < DIM; ++i) {
    for (size_t j = 0; j < DIM; ++j) printf(GEMMINI_ELEM_FMT, m[i][j]);
    printf("\n");
  }
}

static inline void printMatrixAcc(acc_t m[DIM][DIM]) {
  for (size_t i = 0; i < DIM; ++i) {
    for (size_t j = 0; j < DIM; ++j) printf(GEMMINI_ELEM_FMT, m[i][j]);
    printf("\n");
  }
}

#endif // SRC_MAIN_C_GEMMINI_TESTUTILS_H
