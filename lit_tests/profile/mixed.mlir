// Judged by the reference answers with recovery=true, the checker (it reads the
// plan beside the answer its solver built on it) also runs on mixed inputs: a
// right answer with the plan swapped for a wrong one that a planner candidate
// gave. Its profiles carry `mixed` and `mixed_n`, at most one per right input
// (acc_n); the solver (its plan is built on nothing it also reads) and the
// planner have none. The dry run bounds the checker's recovery calls at two per
// candidate call (8 queries x 18 candidates x 2), the solver's at one.
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 recovery=true dry-run=true}' 2>&1 | filecheck %s --check-prefix=DRY
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 recovery=true cache="%t.sqlite"}' 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=SUMMARY < %t.err

// DRY: at most 888 calls (24 reference + 432 candidate + 432 recovery)
// SUMMARY: recovery calls, {{[0-9]+}} of them on mixed inputs;
// CHECK-LABEL: %planner = flow.agent @planner
// CHECK-NOT: mixed
// CHECK-LABEL: %solver = flow.agent @solver
// CHECK-NOT: mixed
// CHECK-LABEL: %checker = flow.agent @checker
// CHECK-SAME: "qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, {{[^>]*}}, mixed = {{[0-9.]+}}, mixed_n = {{[1-8]}},
