/* sim_rocc.c: decode and dispatch of one RoCC instruction; fence, cycles, counters. */
#include "sim_internal.h"

static void loop_ws_config(uint32_t funct, uint64_t rs1, uint64_t rs2) {
  loop_regs_t *L = &G.loop;
  switch (funct) {
  case F_LOOP_WS_BOUNDS:
    L->I = rs2 & 0xFFFF; L->J = (rs2 >> 16) & 0xFFFF; L->K = (rs2 >> 32) & 0xFFFF;
    L->pad_I = rs1 & 0xFFFF; L->pad_J = (rs1 >> 16) & 0xFFFF; L->pad_K = (rs1 >> 32) & 0xFFFF;
    break;
  case F_LOOP_WS_ADDRS_AB: L->A = rs1; L->B = rs2; break;
  case F_LOOP_WS_ADDRS_DC: L->D = rs1; L->C = rs2; break;
  case F_LOOP_WS_STRIDES_AB: L->A_stride = rs1; L->B_stride = rs2; break;
  case F_LOOP_WS_STRIDES_DC: L->D_stride = rs1; L->C_stride = rs2; break;
  default: /* loop_conv_ws config words 1..6 */
    L->conv_rs1[funct - F_LOOP_CONV_1] = rs1;
    L->conv_rs2[funct - F_LOOP_CONV_1] = rs2;
  }
}

uint64_t gemmini_sim_rocc(uint32_t funct, uint64_t rs1, uint64_t rs2) {
  sim_ensure_init();
  G.insn_index = G.n_issued++;
  G.cur_funct = funct; G.cur_rs1 = rs1; G.cur_rs2 = rs2;
  if (funct < F_NUM) { G.issued[funct]++; G.executed[funct]++; }
  switch (funct) {
  case F_CONFIG: op_config(rs1, rs2); break;
  case F_MVIN: op_mvin(rs1, rs2, 0); break;
  case F_MVIN2: op_mvin(rs1, rs2, 1); break;
  case F_MVIN3: op_mvin(rs1, rs2, 2); break;
  case F_MVOUT: op_mvout(rs1, rs2); break;
  case F_PRELOAD: op_preload(rs1, rs2); break;
  case F_COMPUTE_PRELOADED: op_compute(rs1, rs2, 1); break;
  case F_COMPUTE_ACCUMULATED: op_compute(rs1, rs2, 0); break;
  case F_FLUSH: tm_host_issue_only(); break;
  case F_LOOP_WS_BOUNDS: case F_LOOP_WS_ADDRS_AB: case F_LOOP_WS_ADDRS_DC:
  case F_LOOP_WS_STRIDES_AB: case F_LOOP_WS_STRIDES_DC:
  case 16: case 17: case 18: case 19: case 20: case 21:
    loop_ws_config(funct, rs1, rs2);
    tm_host_issue_loop();
    break;
  case F_LOOP_WS:
  case F_LOOP_CONV_WS:
    tm_host_issue_loop();
    tm_loop_begin();
    if (funct == F_LOOP_WS) op_loop_ws(rs1, rs2); else op_loop_conv_ws(rs1, rs2);
    tm_loop_end();
    break;
  case F_COUNTER: return op_counter(rs1);
  default:
    sim_fail("unknown instruction funct %u", funct);
  }
  return 0;
}

void gemmini_sim_fence(void) { sim_ensure_init(); tm_fence(); }

uint64_t gemmini_sim_read_cycles(void) { sim_ensure_init(); return tm_now(); }
