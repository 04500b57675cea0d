// REQUIRES: mlir-opt
// Upstream mlir-opt (with unregistered dialects allowed) reads the generic
// form of every example; properties print as attributes for MLIR < 17.
// RUN: flowcompile-opt %examples/chain.mlir --print-op-generic --print-properties-as-attributes | %mlir-opt --allow-unregistered-dialect | filecheck %s
// RUN: flowcompile-opt %examples/refine.mlir --print-op-generic --print-properties-as-attributes | %mlir-opt --allow-unregistered-dialect | filecheck %s --check-prefix=LOOP
// RUN: flowcompile-opt %examples/router.mlir --print-op-generic --print-properties-as-attributes | %mlir-opt --allow-unregistered-dialect | filecheck %s --check-prefix=SWITCH
// RUN: flowcompile-opt %examples/mixture.mlir --print-op-generic --print-properties-as-attributes | %mlir-opt --allow-unregistered-dialect | filecheck %s --check-prefix=FORK
// RUN: flowcompile-opt %examples/self_consistency.mlir --print-op-generic --print-properties-as-attributes | %mlir-opt --allow-unregistered-dialect | filecheck %s --check-prefix=FORK
// And what upstream prints back (SSA names and dictionary order are its own)
// is still flow IR that verifies:
// RUN: flowcompile-opt %examples/chain.mlir --print-op-generic --print-properties-as-attributes | %mlir-opt --allow-unregistered-dialect --mlir-print-op-generic | flowcompile-opt | filecheck %s --check-prefix=BACK

// CHECK: "flow.workflow"() ({
// CHECK: "flow.agent"(%arg0) {args = ["query"], budgets = array<i64: 0, 1024, 4096>, models = ["qwen3-0.6b"
// CHECK: "flow.return"
// LOOP: "flow.loop"
// LOOP: "flow.until"
// SWITCH: "flow.switch"
// FORK: "flow.fork"
// FORK: "flow.yield"
// BACK: %2 = flow.agent @checker(%arg0, %0, %1) {role = "checker"
