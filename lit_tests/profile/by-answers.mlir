// The default judging: answer and verdict agents are judged by the queries'
// reference answers on every reference run's calls, accepted or not, each by
// its own input's state. On refine, 8 simulated queries, recovery off:
// * the drafter reads only the query, always a right input: every candidate
//   is measured on all 8 queries (the paper's rule takes the accepted runs),
//   and its per-query outcomes (`hits`) have no gap;
// * the critic is a judge, measured on every draft it read: approving the
//   right ones (acc, acc_n) and rejecting the wrong ones (rec, rec_n), the
//   same counts for every candidate, with no recovery calls;
// * the reviser revised no right draft in these runs, so it is measured on
//   the inputs it had, and the summary says so.
// With recovery on, its wrong inputs are flipped to right ones instead: it is
// measured on both, and nothing falls back.
// RUN: flowcompile-opt %examples/refine.mlir -p 'profile{samples=8 max-samples=0 recovery=false cache=none}' 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=SUMMARY < %t.err
// RUN: flowcompile-opt %examples/refine.mlir -p 'profile{samples=8 max-samples=0 cache=none}' 2>&1 >%t.flipped.mlir | filecheck %s --check-prefix=FLIPPED
// RUN: filecheck %s --check-prefix=REVISER < %t.flipped.mlir

// SUMMARY: {{^}}profile @refine: {{[0-9]+}} calls ({{[0-9]+}} reference on 8 queries, {{[0-9]+}} accepted; {{[0-9]+}} candidate calls for 3 agents; answers and verdicts judged by the reference answers);
// SUMMARY-SAME: no input known right for reviser: profiled on the inputs it had{{$}}

// FLIPPED: recovery calls; answers and verdicts judged by the reference answers); {{.*}} s{{$}}
// REVISER: flow.agent @reviser
// REVISER-SAME: "qwen3-1.7b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = [[FIXED:[1-9][0-9]*]], {{[^>]*}}, rec_n = [[FIXED]], hits = "{{[01.]+}}", rec_hits = "{{[01.]+}}">

// CHECK: flow.workflow @refine
// CHECK-SAME: judged = "reference answers", concurrency = 8}
// CHECK: flow.agent @drafter
// CHECK-SAME: "qwen3-1.7b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, {{[^>]*}}, hits = "{{[01][01][01][01][01][01][01][01]}}">
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, {{[^>]*}}, hits = "{{[01][01][01][01][01][01][01][01]}}">
// CHECK: flow.agent @critic
// CHECK-SAME: "qwen3-1.7b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = [[RIGHT:[0-9]+]], {{[^>]*}}, rec = {{[0-9.]+}}, rec_n = [[WRONG:[0-9]+]], hits = "{{[01.]+}}", rec_hits = "{{[01.]+}}">
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = {{[0-9.]+}}, acc_n = [[RIGHT]], {{[^>]*}}, rec = {{[0-9.]+}}, rec_n = [[WRONG]], hits = "{{[01.]+}}", rec_hits = "{{[01.]+}}">
// CHECK: flow.agent @reviser
