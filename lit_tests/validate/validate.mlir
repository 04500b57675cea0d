// validate measures the frontier's candidates end to end on a validation split
// (sim: generated from seed + 500, disjoint from the profiling set), writes the
// combined estimate beside the proxy's and the measurement, and records what it
// spent, and how many validation queries the proxy's estimate was found worth.
// RUN: flowcompile-opt %examples/self_consistency.mlir -p 'profile{samples=12 max-samples=0 cache=none},compose,enumerate,validate{samples=16 cache=none}' | filecheck %s

// The profiling set is recorded where validation can check it:
// CHECK: profiled = {backend = "sim", simulation = "qwen3-dense-sim", world_digest = "{{[0-9a-f]+}}", flowcompile = "{{[^"]+}}", queries = ["q00000",
// The new frontier: every point keeps the proxy's estimate; measured points say on how many queries.
// CHECK-SAME: frontier = [#flow.point<acc = {{[0-9.]+}}, lat = {{[0-9.]+}}, cost = {{[0-9.e-]+}}, proxy_acc = {{[0-9.]+}}, proxy_lat = {{[0-9.]+}}
// CHECK-SAME: val_n = {{[0-9]+}}
// The validation split is disjoint from the profiling one, and what it cost is stated:
// CHECK-SAME: validated = {backend = "sim", simulation = "qwen3-dense-sim", world_digest = "{{[0-9a-f]+}}", flowcompile = "{{[^"]+}}", queries = ["q500-00000",
// CHECK-SAME: queries_digest = "{{[0-9a-f]+}}", calls = {{[0-9]+}}, candidates = {{[0-9]+}}, measured_kept = {{[0-9]+}}, kept = {{[0-9]+}}, from_margin = {{[0-9]+}}, prior_strength = {{[0-9]+}}, offset = {{-?[0-9.e-]+}}, shift = {{-?[0-9.e-]+}}}
