// Option values are read as mlir-opt reads them: up to the next space or `}`,
// so a path needs no quotes; a bool option alone is true.
// RUN: rm -rf %t && mkdir -p %t
// RUN: flowcompile-opt %s -p 'profile{cache=%t/sub.dir/x.db dry-run}' 2>&1 | filecheck %s
// RUN: flowcompile-opt %s -p 'profile{cache="%t/quoted.db" dry-run=true}' 2>&1 | filecheck %s

// CHECK: profile @w (dry run): at most
// CHECK-NOT: error
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a = flow.agent @a(%q) {role = "solver", models = ["qwen3-8b"], budgets = [0]}
  flow.return %a
}
