// Judged by the reference answers, the profile pass counts per round the wrong
// drafts the reference run revised and how many of those revisions came out
// right (`revised`, `fixed`): one count per round up to the last one a wrong
// draft reached, each fixed count at most its revised count (the verifier).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/refine.mlir -p 'profile{samples=64 max-samples=0 cache="%t.sqlite"}' | filecheck %s

// CHECK: %final = flow.loop @final iter(%draft = %drafter) attributes {max_iters = [1, 2, 3], iters = {{[0-9.]+}}, pass_rate = {{[0-9.]+}}, revised = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}], fixed = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}]}
