"""The policy language: its lark grammar, the parser and the AST with spans."""
