"""The AI receptionist as a LangGraph graph: one visitor turn per invocation.

load_context → retrieve → model ⇄ tools → reply. Dependencies reach nodes and tools
through the runtime context (``context.AgentContext``), so this package never imports
Flask, rq or Chroma.
"""
