"""AST -> typed IR, the robot API registry, scenes and the cell geometry."""
