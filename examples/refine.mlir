builtin.module {
  flow.workflow @refine(%query: !flow.msg) -> !flow.msg attributes {pool = {"qwen3-1.7b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-1.7B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-4b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-4B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-8b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-14b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-14B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-32b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-32B", api_base = "http://127.0.0.1:8765/v1">}} {
    %drafter = flow.agent @drafter(%query) {role = "drafter", prompt = "Write a first answer.\0A{query}", args = ["query"], models = ["qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 1024, 4096]}
    %final = flow.loop @final iter(%draft = %drafter) attributes {max_iters = [1, 2, 3]} {
      %critic = flow.agent @critic(%query, %draft) {role = "critic", prompt = "Reply APPROVE if the answer is correct, else explain the flaw.\0AQuestion: {query}\0AAnswer: {draft}", args = ["query", "draft"], models = ["qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 1024, 4096]}
      %reviser = flow.agent @reviser(%query, %draft, %critic) {role = "reviser", prompt = "Revise the answer to address the critique.\0AQuestion: {query}\0AAnswer: {draft}\0ACritique: {critic}", args = ["query", "draft", "critic"], models = ["qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"], budgets = [0, 1024, 4096]}
      flow.until %critic, %reviser
    }
    flow.return %final
  }
}
