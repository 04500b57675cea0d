// A refine loop that ends on a tool's verdict (a code tester): the tool is a
// step with one configuration, composed by the sequence rule, and the loop
// rule takes its verdict as an agent's. With the critic of loop-zero-iters.mlir
// replaced by a tool of the same rate and latency, one round is 0.6 * 0.8
// approved + 0.12 * 0.9 + 0.32 * 0.5 revised = 0.748 at 1.34 s, as there.
// RUN: flowcompile-opt %s -p 'compose,enumerate' | filecheck %s
// RUN: flowcompile-opt %s -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute

// CHECK-LABEL: flow.workflow @refine
// CHECK-SAME: frontier = [#flow.point<acc = 0.6, lat = 0.5, cost = 0.0001, assign = {draft = #flow.config<model = "s", budget = 0>, final.max_iters = 0 : i64, revise = #flow.config<model = "s", budget = 0>, test = #flow.config<model = "tool:code_test", budget = 0>}>, #flow.point<acc = 0.748, lat = 1.34, cost = {{[0-9.e-]+}}, assign = {draft = #flow.config<model = "s", budget = 0>, final.max_iters = 1 : i64, revise = #flow.config<model = "s", budget = 0>, test = #flow.config<model = "tool:code_test", budget = 0>}>]
// CHECK: flow.loop @final {{.*}}proxy = "refine-loop
// CHECK: flow.tool @test(%cur) {tool = "code_test", params = {tests = "assert f(1) == 2"}, profiles = {{.*}}, estimates = {"tool:code_test@0" = #flow.estimate<acc = 0.8, lat = 0.4{{.*}}>}, proxy = "sequence{{(-per-query)?}}"}
flow.workflow @refine(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @draft(%q) {role = "drafter", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 100000, lat = 0.5, cost = 0.0001>}}
  %o = flow.loop @final iter(%cur = %d) attributes {max_iters = [0, 1]} {
    %t = flow.tool @test(%cur) {tool = "code_test", params = {tests = "assert f(1) == 2"}, profiles = {"tool:code_test@0" = #flow.profile<acc = 0.8, acc_n = 100000, lat = 0.4, cost = 0.0>}}
    %r = flow.agent @revise(%q, %cur, %t) {role = "reviser", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.9, acc_n = 100000, lat = 1.0, cost = 0.001>}, recovery = 0.5}
    flow.until %t, %r
  }
  flow.return %o
}
