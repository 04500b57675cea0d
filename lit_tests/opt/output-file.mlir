// -o writes the result to the file, and nothing to stdout.
// RUN: flowcompile-opt %s -o %t > %t.stdout
// RUN: filecheck %s < %t
// RUN: not grep -q . %t.stdout

// CHECK: flow.workflow @w(%q: !flow.msg) -> !flow.msg {
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
