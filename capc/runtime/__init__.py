"""Step-by-step execution, motion profiles, backends (kinematic, PyBullet)."""
