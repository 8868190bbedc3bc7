/* sim_state.c: simulator state, DRAM access checks, errors and statistics. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dlfcn.h>
#include <pthread.h>
#include <link.h>
#include "sim_internal.h"

sim_t G;

static int initialized, embedded, strict;
static jmp_buf *error_jmp;
static char error_msg[1024];
static char stats_buf[8192];

/* All internal buffers live in one mapping, so that DRAM checks can refuse it: a program
 * must never be able to reach the simulator's own state through an mvin/mvout. */
static unsigned char *internal_base;
static size_t internal_bytes;

/* ---- memory regions ------------------------------------------------------------------
 * What "the program's memory" is:
 *  - strict mode (kernels called from Python): the registered regions only (the arrays
 *    passed to the call), plus the thread's stack and the kernel library's own data.
 *  - otherwise (gemmini-cc programs): any mapping of the process with the needed
 *    permission, read from /proc/self/maps and refreshed when an address is not found.
 * The simulator's internal buffers are refused in both modes. */
typedef struct { uint64_t lo, hi; int writable; } region_t;
#define MAX_REGIONS 4096
static region_t regions[MAX_REGIONS];
static int n_regions;
static region_t maps[MAX_REGIONS];
static int n_maps;

int gemmini_sim_add_region(const void *base, uint64_t bytes, int writable) {
  if (n_regions >= MAX_REGIONS) return -1;
  regions[n_regions].lo = (uint64_t)(uintptr_t)base;
  regions[n_regions].hi = (uint64_t)(uintptr_t)base + bytes;
  regions[n_regions].writable = writable;
  return n_regions++;
}
void gemmini_sim_clear_regions(void) { n_regions = 0; }
void gemmini_sim_set_strict(int on) { strict = on; n_maps = 0; }
void gemmini_sim_set_embedded(int on) { embedded = on; }
void gemmini_sim_set_jmp(void *jb) { error_jmp = (jmp_buf *)jb; }
const char *gemmini_sim_error(void) { return error_msg; }

static void read_proc_maps(int stack_only) {
  n_maps = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return;
  char line[512];
  while (n_maps < MAX_REGIONS && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perms[8] = {0};
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3) continue;
    if (stack_only && !strstr(line, "[stack]")) continue;
    if (perms[0] != 'r') continue;
    const int writable = perms[1] == 'w';
    /* adjacent mappings (e.g. .data then the rest of .bss) form one region when their
     * permissions agree, so that an array spanning the seam is still found */
    if (n_maps && maps[n_maps - 1].hi == lo && maps[n_maps - 1].writable == writable) {
      maps[n_maps - 1].hi = hi;
      continue;
    }
    maps[n_maps].lo = lo; maps[n_maps].hi = hi; maps[n_maps].writable = writable;
    n_maps++;
  }
  fclose(f);
}

/* The loaded segments (code, data, bss) of the object this simulator is linked into: a
 * kernel may keep constant tables or scratch buffers of its own. */
static int add_own_segments(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  Dl_info self;
  if (!dladdr(data, &self)) return 0;
  if ((uintptr_t)self.dli_fbase != (uintptr_t)info->dlpi_addr) return 0;
  for (int i = 0; i < info->dlpi_phnum && n_maps < MAX_REGIONS; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    maps[n_maps].lo = info->dlpi_addr + ph->p_vaddr;
    maps[n_maps].hi = maps[n_maps].lo + ph->p_memsz;
    maps[n_maps].writable = (ph->p_flags & PF_W) != 0;
    n_maps++;
  }
  return 1;
}

static void add_thread_stack(void) {
  pthread_attr_t attr;
  void *base;
  size_t size;
  if (n_maps >= MAX_REGIONS || pthread_getattr_np(pthread_self(), &attr)) return;
  if (!pthread_attr_getstack(&attr, &base, &size)) {
    maps[n_maps].lo = (uint64_t)(uintptr_t)base;
    maps[n_maps].hi = (uint64_t)(uintptr_t)base + size;
    maps[n_maps].writable = 1;
    n_maps++;
  }
  pthread_attr_destroy(&attr);
}

static int in_list(const region_t *list, int n, uint64_t lo, uint64_t hi, int write) {
  for (int i = 0; i < n; i++)
    if (lo >= list[i].lo && hi <= list[i].hi) return !write || list[i].writable ? 1 : -1;
  return 0;
}

static int range_allowed(uint64_t lo, uint64_t hi, int write) {
  if (hi > lo && lo < (uint64_t)(uintptr_t)(internal_base + internal_bytes) &&
      hi > (uint64_t)(uintptr_t)internal_base)
    return 0;
  if (hi > lo && lo < (uint64_t)(uintptr_t)(&G + 1) && hi > (uint64_t)(uintptr_t)&G) return 0;
  int r = in_list(regions, n_regions, lo, hi, write);
  if (r) return r;
  if (strict) {
    if (!n_maps) {
      read_proc_maps(1);  /* the main thread's stack */
      add_thread_stack();  /* and the calling thread's, if it is another */
      dl_iterate_phdr(add_own_segments, (void *)&gemmini_sim_rocc);
    }
    return in_list(maps, n_maps, lo, hi, write);
  }
  r = in_list(maps, n_maps, lo, hi, write);
  if (r) return r;
  read_proc_maps(0);  /* the program may have mapped memory since the last look */
  return in_list(maps, n_maps, lo, hi, write);
}

void dram_check(uint64_t addr, uint64_t rows, uint64_t row_bytes, uint64_t stride, int write) {
  if (rows == 0 || row_bytes == 0) return;
  if (rows > 1 && stride > (UINT64_MAX - row_bytes) / (rows - 1))
    sim_fail("DRAM stride 0x%llx overflows the address space", (unsigned long long)stride);
  const uint64_t span = (rows - 1) * stride + row_bytes;
  if (addr + span < addr) sim_fail("DRAM range wraps around the address space");
  int r = range_allowed(addr, addr + span, write);
  if (r == 1) return;
  if (r == 0 && stride > row_bytes) {  /* rows may live in different regions */
    r = 1;
    for (uint64_t i = 0; i < rows && r == 1; i++)
      r = range_allowed(addr + i * stride, addr + i * stride + row_bytes, write);
    if (r == 1) return;
  }
  sim_fail("DRAM %s outside the program's memory: [0x%llx, 0x%llx)%s",
           write ? "write" : "read", (unsigned long long)addr,
           (unsigned long long)(addr + span), r < 0 ? " is read-only" : "");
}

/* ---- errors ------------------------------------------------------------------------ */
static const char *names[F_NUM];

const char *funct_name(uint32_t f) {
  static char buf[16];
  if (f < F_NUM && names[f]) return names[f];
  snprintf(buf, sizeof buf, "funct%u", f);
  return buf;
}

static void init_names(void) {
  names[0] = "config"; names[1] = "mvin2"; names[2] = "mvin"; names[3] = "mvout";
  names[4] = "compute_preloaded"; names[5] = "compute_accumulated"; names[6] = "preload";
  names[7] = "flush"; names[8] = "loop_ws"; names[9] = "loop_ws_config_bounds";
  names[10] = "loop_ws_config_addrs_ab"; names[11] = "loop_ws_config_addrs_dc";
  names[12] = "loop_ws_config_strides_ab"; names[13] = "loop_ws_config_strides_dc";
  names[14] = "mvin3"; names[15] = "loop_conv_ws";
  names[16] = "loop_conv_ws_config_1"; names[17] = "loop_conv_ws_config_2";
  names[18] = "loop_conv_ws_config_3"; names[19] = "loop_conv_ws_config_4";
  names[20] = "loop_conv_ws_config_5"; names[21] = "loop_conv_ws_config_6";
  names[126] = "counter";
}

void sim_fail(const char *fmt, ...) {
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  int n = snprintf(error_msg, sizeof error_msg,
                   "invalid Gemmini program: %s; at instruction #%llu %s(rs1=0x%llx, rs2=0x%llx)",
                   reason, (unsigned long long)G.insn_index, funct_name(G.cur_funct),
                   (unsigned long long)G.cur_rs1, (unsigned long long)G.cur_rs2);
  if (G.in_generated && n > 0 && (size_t)n < sizeof error_msg)
    snprintf(error_msg + n, sizeof error_msg - n, ", in its generated %s(rs1=0x%llx, rs2=0x%llx)",
             funct_name(G.gen_funct), (unsigned long long)G.gen_rs1,
             (unsigned long long)G.gen_rs2);
  G.in_generated = 0;
  if (error_jmp) longjmp(*error_jmp, 1);
  fprintf(stderr, "gemmini-sim: %s\n", error_msg);
  exit(3);
}

void gemmini_sim_abort(const char *message) {
  G.cur_funct = 0xFFFFFFFFu;
  sim_fail("%s", message);
}

void gemmini_sim_exit(int code) {
  if (error_jmp) {
    G.cur_funct = 0xFFFFFFFFu;
    sim_fail("the program called exit(%d)", code);
  }
  exit(code);
}

/* ---- state ---------------------------------------------------------------------------- */
static void write_stats_at_exit(void);

void sim_ensure_init(void) {
  if (initialized) return;
  init_names();
  const size_t spad = (size_t)SPAD_ROWS * DIM * sizeof(elem_t);
  const size_t acc = (size_t)ACC_ROWS * DIM * sizeof(acc_t);
  const size_t times = ((size_t)SPAD_ROWS * 2 + (size_t)ACC_ROWS * 2) * sizeof(uint64_t);
  internal_bytes = spad + acc + times + sizeof(mem_t);
  void *p = mmap(NULL, internal_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("gemmini-sim: mmap"); exit(3); }
  internal_base = p;
  G.spad = (elem_t *)internal_base;
  G.acc = (acc_t *)(internal_base + spad);
  uint64_t *t = (uint64_t *)(internal_base + spad + acc);
  G.tm.spad_w = t; G.tm.spad_r = t + SPAD_ROWS;
  G.tm.acc_w = t + 2 * (size_t)SPAD_ROWS; G.tm.acc_r = G.tm.acc_w + ACC_ROWS;
  G.tm.mem = (mem_t *)(internal_base + spad + acc + times);
  initialized = 1;
  gemmini_sim_reset();
  atexit(write_stats_at_exit);
}

void gemmini_sim_reset(void) {
  if (!initialized) { sim_ensure_init(); return; }
  elem_t *spad = G.spad; acc_t *acc = G.acc;
  timing_t tm = G.tm;
  memset(&G, 0, sizeof G);
  G.spad = spad; G.acc = acc;
  G.tm.spad_w = tm.spad_w; G.tm.spad_r = tm.spad_r; G.tm.acc_w = tm.acc_w; G.tm.acc_r = tm.acc_r;
  G.tm.mem = tm.mem;
  memset(internal_base, 0, internal_bytes);
  for (int i = 0; i < 3; i++) {
    G.ld[i].stride = DIM * sizeof(elem_t);
    G.ld[i].scale = 1.0f;
    G.ld[i].block_stride = DIM;
    G.ld[i].pixel_repeats = 1;
  }
  G.st_stride = DIM * sizeof(elem_t);
  G.st_scale = 1.0f;
  G.a_stride = 1; G.c_stride = 1;
  G.pre_addr = GARBAGE; G.out_addr = GARBAGE;
  error_msg[0] = 0;
  tm_reset();
}

void gemmini_sim_finish(void) { sim_ensure_init(); tm_fence(); }

/* ---- statistics ------------------------------------------------------------------------ */
const char *gemmini_sim_stats_json(void) {
  sim_ensure_init();
  const uint64_t cycles = tm_total();
  int n = snprintf(stats_buf, sizeof stats_buf,
      "{\"config\": \"%s\", \"dim\": %d, \"cycles\": %llu, \"macs\": %llu, "
      "\"instructions\": %llu, \"bytes_loaded\": %llu, \"bytes_stored\": %llu, "
      "\"spad_rows_used\": %u, \"acc_rows_used\": %u, \"spad_rows\": %u, \"acc_rows\": %u, "
      "\"load_busy\": %llu, \"execute_busy\": %llu, \"store_busy\": %llu, "
      "\"error\": \"%s\", ",
      GEMMINI_CONFIG_NAME, DIM, (unsigned long long)cycles, (unsigned long long)G.macs,
      (unsigned long long)G.n_issued, (unsigned long long)G.bytes_in,
      (unsigned long long)G.bytes_out, G.spad_hwm, G.acc_hwm, SPAD_ROWS, ACC_ROWS,
      (unsigned long long)G.tm.busy[Q_LD], (unsigned long long)G.tm.busy[Q_EX],
      (unsigned long long)G.tm.busy[Q_ST], "");
  static const char *stall_names[STALL_NUM] = {
    "host_rs_full", "load_local_hazard", "load_dma_inflight", "load_dram_bandwidth",
    "load_bank_conflict", "execute_operands", "execute_output_hazard", "execute_bank_conflict",
    "store_results", "store_dma_inflight", "store_dram_bandwidth", "store_bank_conflict"};
  n += snprintf(stats_buf + n, sizeof stats_buf - n,
                "\"dma_read_requests\": %llu, \"dma_write_requests\": %llu, \"stalls\": {",
                (unsigned long long)G.tm.mem->dma[DMA_READ].requests,
                (unsigned long long)G.tm.mem->dma[DMA_WRITE].requests);
  for (int c = 0; c < STALL_NUM; c++)
    n += snprintf(stats_buf + n, sizeof stats_buf - n, "%s\"%s\": %llu", c ? ", " : "",
                  stall_names[c], (unsigned long long)G.stall[c]);
  n += snprintf(stats_buf + n, sizeof stats_buf - n, "}, \"issued\": {");
  for (int pass = 0; pass < 2; pass++) {
    const uint64_t *c = pass ? G.executed : G.issued;
    int first = 1;
    for (int f = 0; f < F_NUM && n < (int)sizeof stats_buf - 80; f++) {
      if (!c[f]) continue;
      n += snprintf(stats_buf + n, sizeof stats_buf - n, "%s\"%s\": %llu", first ? "" : ", ",
                    funct_name(f), (unsigned long long)c[f]);
      first = 0;
    }
    n += snprintf(stats_buf + n, sizeof stats_buf - n, pass ? "}}" : "}, \"executed\": {");
  }
  return stats_buf;
}

/* gemmini-cc programs: GEMMINI_STATS=1 prints one line at exit; GEMMINI_STATS_FILE names a
 * file that receives the JSON stats (and the error, if the simulator stopped the program). */
static void write_stats_at_exit(void) {
  if (embedded) return;
  const char *path = getenv("GEMMINI_STATS_FILE");
  const char *flag = getenv("GEMMINI_STATS");
  if (!path && !(flag && *flag && strcmp(flag, "0"))) return;
  tm_fence();
  const uint64_t cycles = tm_total();
  if (flag && *flag && strcmp(flag, "0")) {
    const double util = cycles ? (double)G.macs / ((double)cycles * DIM * DIM) : 0.0;
    fprintf(stderr, "gemmini-stats: config=%s cycles=%llu macs=%llu utilization=%.1f%% "
            "instructions=%llu spad_rows=%u/%u acc_rows=%u/%u\n", GEMMINI_CONFIG_NAME,
            (unsigned long long)cycles, (unsigned long long)G.macs, 100.0 * util,
            (unsigned long long)G.n_issued, G.spad_hwm, SPAD_ROWS, G.acc_hwm, ACC_ROWS);
  }
  if (path) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(gemmini_sim_stats_json(), f);
    fputc('\n', f);
    if (error_msg[0]) {  /* a second line: the error, JSON-escaped minimally */
      fputs("{\"error\": \"", f);
      for (const char *p = error_msg; *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', f);
        fputc(*p, f);
      }
      fputs("\"}\n", f);
    }
    fclose(f);
  }
}
