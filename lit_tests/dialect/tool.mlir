// Round trip of flow.tool: its tool, params of every kind and a discardable
// attribute all survive printing, in the custom and the generic form.
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s | flowcompile-opt --print-op-generic | filecheck %s --check-prefix=CHECK-GENERIC

flow.workflow @tools(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solver(%q) {role = "solver", models = ["m"], budgets = [0]}
// CHECK:      %a = flow.tool @extract(%q, %s) {tool = "extract_answer", params = {number = true, pattern = "x(\\d+)", k = 3, f = 0.5}, note = "kept"}
  %a = flow.tool @extract(%q, %s) {note = "kept", tool = "extract_answer", params = {number = true, pattern = "x(\\d+)", k = 3, f = 0.5}}
  flow.return %a
}
// CHECK-GENERIC: "flow.tool"(%q, %s) <{sym_name = "extract", tool = "extract_answer", params = {number = true, pattern = "x(\\d+)", k = 3 : i64, f = 5.000000e-01 : f64}}> {note = "kept"} : (!flow.msg, !flow.msg) -> !flow.msg
