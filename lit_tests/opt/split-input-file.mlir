// --split-input-file processes each chunk on its own and joins the outputs
// with `// -----` lines, in input order.
// RUN: flowcompile-opt %s --split-input-file | filecheck %s

// CHECK:      builtin.module {
// CHECK-NEXT:   flow.workflow @first(%q: !flow.msg) -> !flow.msg {
// CHECK:      {{^}}}
// CHECK-NEXT: {{^}}// -----
// CHECK-NEXT: {{^}}builtin.module {
// CHECK-NEXT:   flow.workflow @second(%q: !flow.msg) -> !flow.msg {
// CHECK-NOT:  // -----
flow.workflow @first(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}

// -----

// The same symbol again: legal only because the chunks are separate modules.
flow.workflow @second(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
