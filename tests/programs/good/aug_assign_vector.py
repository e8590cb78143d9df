p = np.array([0.0, -0.4, 0.1])
for _ in range(4):
    move_to(p, speed=0.1)
    p += np.array([0.0, -0.05, 0.0])
