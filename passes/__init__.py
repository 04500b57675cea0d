"""FlowCompile's passes, one module each; `registry` names them."""
