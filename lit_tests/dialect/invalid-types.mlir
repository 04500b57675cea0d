// Operands that are not !flow.msg: a verifier error at the op that uses them,
// or a parse error at the operand when the op's syntax fixes its type.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = "test.op"() : () -> i32
  // expected-error @+1 {{operand is used with type !flow.msg, but has been previously used or defined with type i32}}
  %1 = flow.agent @a(%0) {role = "s", models = ["m"], budgets = [0]}
  flow.return %1
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = "test.op"() : () -> i32
  // expected-error @+1 {{operand is used with type !flow.msg, but has been previously used or defined with type i32}}
  %1 = flow.vote(%q, %0) {method = "majority"}
  flow.return %1
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = "test.op"() : () -> i32
  // expected-error @+1 {{operand is used with type !flow.msg, but has been previously used or defined with type i32}}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{result 'output' at position 0 does not verify: i32 should be of base attribute flow.msg}}
  %0 = "flow.agent"(%q) <{sym_name = "a", role = "s", models = ["m"], budgets = array<i64: 0>}> : (!flow.msg) -> i32
  flow.return %q
}
