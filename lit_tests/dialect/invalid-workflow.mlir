// flow.workflow and flow.return verifiers.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{workflow inputs and outputs must be !flow.msg}}
flow.workflow @w(%q: i32) {
  flow.return
}

// -----

// expected-error @+1 {{entry block has 2 arguments, the signature 1 inputs}}
"flow.workflow"() <{sym_name = "w", function_type = (!flow.msg) -> !flow.msg}> ({
^bb0(%q: !flow.msg, %r: !flow.msg):
  "flow.return"(%q) : (!flow.msg) -> ()
}) : () -> ()

// -----

// expected-error @+1 {{workflow body must end with flow.return}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
}

// -----

// An op that might be a terminator is still not a flow.return.
// expected-error @+1 {{workflow body must end with flow.return}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  "test.op"(%q) : (!flow.msg) -> ()
}

// -----

// expected-error @+1 {{pool entry 'm' must be a #flow.model}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = "qwen3-8b"}} {
  flow.return %q
}

// -----

// Two sites of one agent (a shared agent) are one call on other inputs.
// expected-error @+1 {{@a is called at several sites (a shared agent), which must agree on budgets: every site is one agent with one configuration}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
  %1 = flow.fork {
    %2 = flow.agent @a(%0) {role = "s", models = ["m"], budgets = [0, 1024]}
    flow.yield %2
  }
  flow.return %1
}

// -----

// expected-error @+1 {{@a is called at several sites (a shared agent), which must agree on optional}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "pass"}
  %1 = flow.agent @a(%0) {role = "s", models = ["m"], budgets = [0]}
  flow.return %1
}

// -----

// expected-error @+1 {{@t is defined twice in the workflow}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @t(%q) {role = "s", models = ["m"], budgets = [0]}
  %1 = flow.tool @t(%0) {tool = "extract_answer"}
  flow.return %1
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{returns 2 value(s), the workflow declares 1}}
  flow.return %q, %q
}

// -----

flow.workflow @w(%q: !flow.msg) {
  // expected-error @+1 {{returns 1 value(s), the workflow declares 0}}
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.fork {
    // expected-error @+1 {{'flow.return' expects parent op 'flow.workflow'}}
    flow.return %q
  }
  flow.return %0
}

// -----

// Two symbols of one name: reported at the module's first op.
// expected-error @+1 {{Redefinition of symbol "w"}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
