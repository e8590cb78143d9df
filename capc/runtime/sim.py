"""The PyBullet tabletop backend: a Franka Panda, a table, blocks and bowls.

Implements `capc.runtime.backend.Backend`. The cell is CaP's frame (capc.compiler.tabletop):
the Panda's base at the origin, yawed so that its front faces the table at negative y; the
table top at z = 0. The tool centre point (TCP) is `panda_grasptarget`, the point between
the finger tips, and always points straight down with the fingers closing along world y,
so they meet the faces of the axis-aligned blocks.

Per set-point the backend solves inverse kinematics ONCE (damped least squares seeded with
the previous solution pulled towards a rest pose), hands the joint targets (with a velocity
feed-forward) to PyBullet's position motors with the Panda's joint velocity limits set
explicitly (PyBullet ignores the URDF's `velocity` attribute), and steps the physics for
the tick. Nothing else runs per substep: the real-time factor is bounded by PyBullet's own
stepping.

Grasps: the fingers close on the block with the URDF's force, geared to mirror each other;
the held object is the one both fingers touch whose centre lies within the cell's grasp_radius of
the TCP. By default friction alone holds it (`grasp="friction"`); `grasp="weld"` adds a fixed
constraint to the hand once the fingers have closed, which makes carrying cheaper to
simulate. Both succeeded in 150 of 150 example task runs; docs/simulation.md has the
story of the two failures friction grasps had before the fingers were geared and the opening
narrowed.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from capc.compiler.scene import Scene
from capc.compiler.profiles import get_profile
from capc.compiler.registry import RobotProfile
from capc.diagnostics import InputError
from capc.runtime import hand, sim_assets
from capc.safety.spec import SafetySpec

PHYSICS_RATE = 240.0           # Hz; PyBullet's default step, the spec's default control rate
# Contact solver iterations per step. PyBullet's default is 50; 20 made the example tasks
# 1.4x faster with the same success, 10 let stacked blocks slide off each other.
SOLVER_ITERATIONS = 20
TCP_LINK = 11                  # panda_grasptarget: between the finger tips
ARM_JOINTS = tuple(range(7))
FINGER_JOINTS = (9, 10)
# Opening per finger. Not the URDF's 0.04: a finger reaches 26.4 mm outside its joint
# position, so fully open fingers inside a bowl (inner radius 55 mm) press its walls and lift
# it by friction. 26 mm leaves 6 mm beside a block and ~2.6 mm to the wall of a bowl.
FINGER_OPEN = 0.026
FINGER_FORCE = 20.0            # N per finger (the URDF's effort limit)
WELD_FORCE = 200.0             # N; the weld that holds a grasped block (grasp="weld")
GRASP_FRICTION, GRASP_WELD = "friction", "weld"
GRASPS = (GRASP_FRICTION, GRASP_WELD)
GRIPPER_TICKS = 60             # physics steps a close/open takes (0.25 s at 240 Hz)
TRACKING_SAMPLE = 8            # measure the TCP's distance to its set-point every 8th set-point
SETTLE_TICKS = 240             # at most this long (1 s) waiting for the arm before the gripper moves
SETTLED_RAD = 2e-4             # every arm joint this close to its target: about 0.1 mm at the TCP
IK_ITERATIONS = 3              # per set-point, from the previous solution
IK_RESIDUAL = 1e-5             # m
IK_DAMPING = 0.01              # PyBullet's default (0.1) leaves mm-sized residuals
ARM_VELOCITY_GAIN = 1.0
ARM_POSITION_GAIN = 0.3        # PyBullet motor gain; the default 0.1 lagged 9.5 mm at 0.25 m/s, this 2.5
# Fingers closing along world y, the hand pointing straight down.
TCP_DOWN = (1.0, 0.0, 0.0, 0.0)  # quaternion (x, y, z, w) of a rotation by pi about x
YAW_90 = (0.0, 0.0, math.sqrt(0.5), math.sqrt(0.5))  # a quarter turn about world z: fingers along x
# Joint angles near the home pose (TCP at the cell's home, elbow up); the IK pulls towards them.
REST_POSE = (0.0, 0.05, 0.0, -2.37, 0.0, 2.42, -math.pi / 4)
NULL_SPACE_PULL = 0.002        # fraction of the way to REST_POSE per set-point (~2 s time constant)
BASE_YAW = -math.pi / 2        # URDF front (+x) turned to face the table (-y)


def import_pybullet():
    """`import pybullet`, without the "pybullet build time: ..." line its C code prints on
    import (to stderr in the build tested here): the output of `capc run` and `capc demo` is
    capc's own. File descriptors 1 and 2 point at /dev/null for the import only. (A build
    that printed it to a *piped* stdout would keep it in C's buffer past the import; flushing
    that would take ctypes, which capc does not import: tests/test_no_exec.py.) A failed
    import still raises, with its message, as a Python exception."""
    if "pybullet" in sys.modules:
        return sys.modules["pybullet"]
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            os.dup2(null, 2)
        finally:
            os.close(null)
        try:
            import pybullet
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    finally:
        for fd in saved:
            os.close(fd)
    return pybullet


class SimBackend:
    """A PyBullet tabletop with one physics client of its own (many may coexist)."""

    name = "sim"

    def __init__(self, *, gui: bool = False, record: str | None = None,
                 record_every: int | None = None, realtime: bool | None = None,
                 grasp: str = GRASP_FRICTION, profile: RobotProfile | None = None):
        """`profile` (None: the default one) gives the cell the bodies are built from and the
        colours they are painted in. `realtime` (default: on with the GUI, off headless) paces the physics to the wall
        clock so that a person watching sees the robot move at its real speed. `grasp` is
        "friction" (the fingers hold the block) or "weld" (a fixed constraint holds it once
        the fingers have closed on it: cheaper steps while carrying)."""
        if grasp not in GRASPS:
            raise InputError(f"unknown grasp mode {grasp!r}", hint="use one of: " + ", ".join(GRASPS))
        self.grasp = grasp
        self.profile = profile or get_profile()
        self.cell = self.profile.cell
        p = import_pybullet()
        import pybullet_data

        if gui and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            # PyBullet's GUI aborts the whole process without an X display: refuse first.
            raise InputError("--gui needs a display, and DISPLAY is not set",
                             hint="run headless (without --gui), or record a GIF with --record out.gif")
        self._p = p
        self._client = p.connect(p.GUI if gui else p.DIRECT)
        if self._client < 0:
            raise InputError("cannot open a PyBullet physics client" +
                             (" with a GUI (is there a display?)" if gui else ""))
        c = self._client
        if gui:
            self._frame_the_window()
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=c)
        p.setGravity(0, 0, -9.81, physicsClientId=c)
        p.setTimeStep(1.0 / PHYSICS_RATE, physicsClientId=c)
        p.setPhysicsEngineParameter(numSolverIterations=SOLVER_ITERATIONS, physicsClientId=c)
        self._shapes = sim_assets.ShapeCache(c, self.cell, self.profile.paint)
        sim_assets.add_table(p, c, self.cell)
        self._robot = p.loadURDF("franka_panda/panda.urdf", (0, 0, 0),
                                 p.getQuaternionFromEuler((0, 0, BASE_YAW)), useFixedBase=True,
                                 physicsClientId=c)
        self._read_joint_limits()
        for j in ARM_JOINTS:
            # Also a hard clamp in the solver: the motors' maxVelocity alone overshot by 2 %.
            p.changeDynamics(self._robot, j, maxJointVelocity=self._max_velocity[j],
                             physicsClientId=c)
        # World -> base frame, for IK with an explicit seed (see _ik), computed once.
        to_base = p.invertTransform(*p.getBasePositionAndOrientation(self._robot, physicsClientId=c))
        matrix = p.getMatrixFromQuaternion(to_base[1])
        self._base_rotation = (matrix[0:3], matrix[3:6], matrix[6:9])
        self._base_offset = to_base[0]
        self._orientations = {  # closing axis -> the TCP's orientation in the base frame
            axis: p.multiplyTransforms((0, 0, 0), to_base[1], (0, 0, 0), down)[1]
            for axis, down in (("y", TCP_DOWN), ("x", p.multiplyTransforms((0, 0, 0), YAW_90,
                                                                         (0, 0, 0), TCP_DOWN)[1]))}
        self._axis = "y"
        self._seed = list(REST_POSE) + [FINGER_OPEN] * (self._dofs - 7)
        for finger in FINGER_JOINTS:
            p.changeDynamics(self._robot, finger, lateralFriction=1.0, spinningFriction=0.01,
                             physicsClientId=c)
        self._bodies: dict[str, int] = {}      # object name -> body id
        self._kinds: dict[str, str] = {}       # object name -> "block" | "bowl"
        self._ignoring: list[tuple[int, int]] = []  # body pairs with collisions switched off
        self._steps = 0
        self._setpoints = 0
        self.max_tracking_error = 0.0
        self._targets = list(REST_POSE)
        self._velocities = [0.0] * len(ARM_JOINTS)
        self._finger_target = FINGER_OPEN
        self._held: str | None = None
        self._weld: int | None = None          # constraint id while a block is welded
        self._held_checked = -1                # physics step of the last friction-grasp check
        self._couple_fingers()
        self._recorder = None
        self._realtime = gui if realtime is None else realtime
        self._clock_start: float | None = None   # wall clock at sim time 0, when paced
        if record is not None:
            try:
                self.start_recording(record, every=record_every)
            except Exception:
                self.close()
                raise

    # --- set-up -------------------------------------------------------------------------

    def _frame_the_window(self) -> None:
        """The GUI shows the cell from the recorder's camera, without PyBullet's side panels."""
        from capc.runtime import recording

        p, c = self._p, self._client
        p.configureDebugVisualizer(p.COV_ENABLE_GUI, 0, physicsClientId=c)
        p.resetDebugVisualizerCamera(recording.CAMERA_DISTANCE, recording.CAMERA_YAW,
                                     recording.CAMERA_PITCH, recording.CAMERA_TARGET,
                                     physicsClientId=c)

    def _read_joint_limits(self) -> None:
        """Efforts and velocity limits straight from the URDF (PyBullet enforces the position
        limits itself, but not the velocity ones)."""
        p, c = self._p, self._client
        movable = [j for j in range(p.getNumJoints(self._robot, physicsClientId=c))
                   if p.getJointInfo(self._robot, j, physicsClientId=c)[2] != p.JOINT_FIXED]
        infos = [p.getJointInfo(self._robot, j, physicsClientId=c) for j in movable]
        self._efforts = {j: i[10] for j, i in zip(movable, infos)}
        self._limits = {j: (i[8], i[9]) for j, i in zip(movable, infos)}
        self._max_velocity = {j: i[11] for j, i in zip(movable, infos)}
        self._dofs = len(movable)

    def _couple_fingers(self) -> None:
        """A gear constraint makes the two fingers mirror each other, as the real Panda's
        single-motor gripper does: a block is centred between them instead of pushing one
        finger back."""
        p, c = self._p, self._client
        gear = p.createConstraint(self._robot, FINGER_JOINTS[0], self._robot, FINGER_JOINTS[1],
                                  p.JOINT_GEAR, (1, 0, 0), (0, 0, 0), (0, 0, 0), physicsClientId=c)
        p.changeConstraint(gear, gearRatio=-1, erp=0.1, maxForce=50, physicsClientId=c)

    def reset(self, scene: Scene, spec: SafetySpec, tcp_start: tuple[float, float, float]) -> None:
        p, c = self._p, self._client
        if abs(spec.control_rate - PHYSICS_RATE) > 1e-9:
            # One set-point may span several physics steps, never a fraction of one.
            ratio = PHYSICS_RATE / spec.control_rate
            if abs(ratio - round(ratio)) > 1e-9:
                raise InputError(f"the sim steps at {PHYSICS_RATE:g} Hz; a control rate of "
                                 f"{spec.control_rate:g} Hz does not divide it",
                                 file=spec.source if spec.source != "<defaults>" else None,
                                 hint="use a control_rate that divides 240 (240, 120, 80, 60, ...)")
        self._let_go()
        # Body ids are reused after removeBody, and collision filters are kept per id pair:
        # a filter of the last scene's bowls would let this scene's blocks pass through
        # each other. Restore them before the ids are handed out again.
        for pair in self._ignoring:
            p.setCollisionFilterPair(*pair, -1, -1, 1, physicsClientId=c)
        self._ignoring = []
        for body in self._bodies.values():
            p.removeBody(body, physicsClientId=c)
        self._bodies = {}
        self._axis = "y"
        joints = self._solve_from_rest(tcp_start)
        for j in ARM_JOINTS:
            p.resetJointState(self._robot, j, joints[j], 0.0, physicsClientId=c)
        for f in FINGER_JOINTS:
            p.resetJointState(self._robot, f, FINGER_OPEN, 0.0, physicsClientId=c)
        self._targets = list(joints[:7])
        self._velocities = [0.0] * len(ARM_JOINTS)
        self._finger_target = FINGER_OPEN
        self._held = None
        self._kinds = {obj.name: obj.kind for obj in scene.objects}
        for obj in scene.objects:
            self._bodies[obj.name] = sim_assets.add_object(p, self._shapes, obj.kind, obj.color,
                                                           obj.position)
        self._separate_overlapping_bowls(scene)
        self._steps = 0
        self._setpoints = 0
        # Largest distance seen between the measured TCP and its set-point (sampled): the
        # monitor checks set-points; this says how far the simulated arm strayed from them.
        self.max_tracking_error = 0.0
        self._clock_start = None
        self._command_arm()
        self._command_fingers()
        if self._recorder is not None:
            self._recorder.capture(force=True)

    def _separate_overlapping_bowls(self, scene: Scene) -> None:
        """Scenes may put two bowls closer than two radii (random_scene keeps centres only
        10 cm apart, a bowl is 12 cm wide). Real bowls would not overlap; simulated ones
        would push each other away at the first step and skid under the arm. Such pairs
        ignore each other instead: every other contact stays physical."""
        p, c = self._p, self._client
        bowls = [o for o in scene.objects if o.kind == "bowl"]
        for i, a in enumerate(bowls):
            for b in bowls[i + 1:]:
                if math.dist(a.xy, b.xy) < 2 * self.cell.bowl_radius:
                    pair = (self._bodies[a.name], self._bodies[b.name])
                    p.setCollisionFilterPair(*pair, -1, -1, 0, physicsClientId=c)
                    self._ignoring.append(pair)

    def _solve_from_rest(self, tcp: tuple[float, float, float]) -> list[float]:
        """IK from the rest pose, iterated to convergence: used once per reset, where the
        arm may jump (it is teleported, not driven)."""
        self._seed = list(REST_POSE) + [FINGER_OPEN] * (self._dofs - 7)
        for _ in range(20):
            joints = self._ik(tcp, iterations=20)
        return joints

    def reach_error(self, tcp: tuple[float, float, float]) -> float:
        """How far (m) the TCP ends from `tcp`, pointing down, with the arm at the IK's answer
        from the rest pose held to the joint limits (PyBullet's IK ignores them; the physics
        does not): 0 where the arm reaches. bench/reach.py measures the cell's reach with it.
        It moves the joints and puts them back: not for use during a run."""
        p, c = self._p, self._client
        saved = [s[0] for s in p.getJointStates(self._robot, list(ARM_JOINTS), physicsClientId=c)]
        seed, axis = self._seed, self._axis
        self._axis = "y"
        joints = self._solve_from_rest(tcp)
        try:
            for j in ARM_JOINTS:
                low, high = self._limits[j]
                p.resetJointState(self._robot, j, min(max(joints[j], low), high), 0.0, physicsClientId=c)
            return float(np.linalg.norm(self.tcp() - np.asarray(tcp, dtype=float)))
        finally:
            for j in ARM_JOINTS:
                p.resetJointState(self._robot, j, saved[j], 0.0, physicsClientId=c)
            self._seed, self._axis = seed, axis

    def _let_go(self) -> None:
        """Remove the weld of a held object and give the fingers their contacts back."""
        if self._weld is not None:
            self._finger_contacts(self._bodies[self._held], enabled=True)
            self._p.removeConstraint(self._weld, physicsClientId=self._client)
        self._weld, self._held = None, None

    # --- commands -----------------------------------------------------------------------

    def _ik(self, tcp, iterations: int | None = None) -> list[float]:
        """Joint angles for the TCP at `tcp`, pointing down.

        PyBullet's damped least squares, seeded with the previous solution pulled a little
        towards REST_POSE. The pull is a cheap null-space task: the Panda has one joint
        more than the pose needs, and plain DLS let that freedom wander (after 150 random
        moves the shoulder and upper arm had turned by 2 rad). PyBullet's own null-space
        variant (limits + rest poses) stayed 2-15 mm off its targets; this lands within
        0.05 mm of targets 1 mm apart in 3 iterations.
        With an explicit seed PyBullet solves in the base frame, hence the transform."""
        seed = self._seed
        pulled = [q + NULL_SPACE_PULL * (rest - q) for q, rest in zip(seed, REST_POSE)] + seed[7:]
        x, y, z = (float(v) for v in tcp)
        (r0, r1, r2), offset = self._base_rotation, self._base_offset
        position = (r0[0] * x + r0[1] * y + r0[2] * z + offset[0],
                    r1[0] * x + r1[1] * y + r1[2] * z + offset[1],
                    r2[0] * x + r2[1] * y + r2[2] * z + offset[2])
        self._seed = list(self._p.calculateInverseKinematics(
            self._robot, TCP_LINK, position, self._orientations[self._axis], currentPositions=pulled,
            jointDamping=[IK_DAMPING] * self._dofs,
            maxNumIterations=iterations or IK_ITERATIONS, residualThreshold=IK_RESIDUAL,
            physicsClientId=self._client))
        return self._seed

    def _command_arm(self) -> None:
        p, c, robot = self._p, self._client, self._robot
        for j in ARM_JOINTS:
            p.setJointMotorControl2(robot, j, p.POSITION_CONTROL, targetPosition=self._targets[j],
                                    targetVelocity=self._velocities[j], force=self._efforts[j],
                                    maxVelocity=self._max_velocity[j], positionGain=ARM_POSITION_GAIN,
                                    velocityGain=ARM_VELOCITY_GAIN, physicsClientId=c)

    def _command_fingers(self) -> None:
        p, c = self._p, self._client
        for f in FINGER_JOINTS:
            p.setJointMotorControl2(self._robot, f, p.POSITION_CONTROL,
                                    targetPosition=self._finger_target, force=FINGER_FORCE,
                                    maxVelocity=self._max_velocity[f], physicsClientId=c)

    def _step(self, n: int) -> None:
        p, c = self._p, self._client
        for _ in range(n):
            p.stepSimulation(physicsClientId=c)
            self._steps += 1
            if self._recorder is not None:
                self._recorder.capture()
        if self._realtime:
            self._pace()

    def _pace(self) -> None:
        """Sleep until the wall clock has caught up with the simulated time."""
        now = time.monotonic()
        if self._clock_start is None:
            self._clock_start = now - self.sim_time()
        ahead = self._clock_start + self.sim_time() - now
        if ahead > 0:
            time.sleep(ahead)

    def begin_segment(self, target) -> None:
        """The runtime's notice of where the next straight segment ends: the hand may turn a
        quarter there to keep its fingers clear of a neighbour (capc.runtime.hand.choose_axis,
        the rule the runtime's observer predicts collisions with)."""
        self._axis = hand.choose_axis(self._axis, target, self.object_positions(), self._kinds, self._held,
                                      self.cell)

    def send_setpoint(self, tcp: np.ndarray, dt: float) -> None:
        targets = self._ik(tcp)[:7]
        # Velocity feed-forward: the joint velocity that takes the last target to this one
        # in dt. Without it the position motors only react to the error, and the arm lags
        # (and cuts corners) the faster the set-points move.
        self._velocities = [(q - previous) / dt for q, previous in zip(targets, self._targets)]
        self._targets = list(targets)
        self._command_arm()
        self._step(max(1, round(dt * PHYSICS_RATE)))
        self._setpoints += 1
        if self._setpoints % TRACKING_SAMPLE == 0:
            error = float(np.linalg.norm(self.tcp() - np.asarray(tcp, dtype=float)))
            self.max_tracking_error = max(self.max_tracking_error, error)

    def set_gripper(self, close: bool) -> str | None:
        # No set-points while the gripper works: hold the last target, at rest.
        self._velocities = [0.0] * len(ARM_JOINTS)
        self._command_arm()
        self._settle()
        if not close:
            self._let_go()  # first, then open: the block stays where it was put down
        self._finger_target = 0.0 if close else FINGER_OPEN
        self._command_fingers()
        self._step(GRIPPER_TICKS)
        if close and self._held is None:
            self._held = self._object_between_fingers()
            if self._held is not None and self.grasp == GRASP_WELD:
                self._weld = self._attach(self._bodies[self._held])
            elif self._held is None:
                self._held = self._bowl_at_tcp()
                if self._held is not None:
                    self._weld = self._attach(self._bodies[self._held])
        return self.held_object()

    def _settle(self) -> None:
        """Let the arm arrive at its last set-point before the fingers move, as a robot
        controller waits for "motion done": the arm lags its set-points (1 mm at
        0.25 m/s, centimetres at 1 m/s), and fingers closing on the way grab the block's
        edge or miss it. At most SETTLE_TICKS physics steps; the time counts as robot time."""
        p, c, robot = self._p, self._client, self._robot
        for _ in range(SETTLE_TICKS):
            states = p.getJointStates(robot, ARM_JOINTS, physicsClientId=c)
            if all(abs(s[0] - t) < SETTLED_RAD for s, t in zip(states, self._targets)):
                return
            self._step(1)

    def settle(self) -> None:
        """Come to rest at the last set-point (the runtime asks before a stop that comes
        between segments: the arm finishes the motion it was sent instead of freezing where
        its lag left it)."""
        self._velocities = [0.0] * len(ARM_JOINTS)
        self._command_arm()
        self._settle()

    def _object_between_fingers(self) -> str | None:
        """The object both fingers touch whose centre is within the cell's grasp_radius of the TCP."""
        p, c = self._p, self._client
        touching = None
        for f in FINGER_JOINTS:
            bodies = {pt[2] for pt in p.getContactPoints(bodyA=self._robot, linkIndexA=f,
                                                         physicsClientId=c)}
            touching = bodies if touching is None else touching & bodies
        tcp = self.tcp()
        for name, body in self._bodies.items():
            if body in touching:
                centre = p.getBasePositionAndOrientation(body, physicsClientId=c)[0]
                if np.linalg.norm(np.asarray(centre) - tcp) <= self.cell.grasp_radius:
                    return name
        return None

    def _bowl_at_tcp(self) -> str | None:
        """A bowl whose grasp point (centre, mid-height: the cell's grasp_z) is within the grasp
        radius of the closed fingers. The tabletop (as CaP's, whose robot has a suction cup)
        picks a bowl at its centre; the Panda's fingers open 8 cm and a bowl is 12 cm wide, so
        they close inside it on nothing. Such a grasp is a weld: the suction cup's model."""
        p, c = self._p, self._client
        tcp = self.tcp()
        for name, body in self._bodies.items():
            if self._kinds.get(name) != "bowl":
                continue
            x, y, z = p.getBasePositionAndOrientation(body, physicsClientId=c)[0]
            if np.linalg.norm(np.array((x, y, self.cell.grasp_z("bowl", z))) - tcp) <= self.cell.grasp_radius:
                return name
        return None

    def _attach(self, body: int) -> int:
        """Weld `body` to the TCP link in its current pose relative to it."""
        p, c = self._p, self._client
        link = p.getLinkState(self._robot, TCP_LINK, computeForwardKinematics=True, physicsClientId=c)
        link_pos, link_orn = link[4], link[5]
        body_pos, body_orn = p.getBasePositionAndOrientation(body, physicsClientId=c)
        inv_pos, inv_orn = p.invertTransform(link_pos, link_orn)
        rel_pos, rel_orn = p.multiplyTransforms(inv_pos, inv_orn, body_pos, body_orn)
        weld = p.createConstraint(self._robot, TCP_LINK, body, -1, p.JOINT_FIXED, (0, 0, 0),
                                  rel_pos, (0, 0, 0), rel_orn, physicsClientId=c)
        p.changeConstraint(weld, maxForce=WELD_FORCE, physicsClientId=c)
        # The weld holds the block; finger contacts pressing on it too would only make the
        # solver fight the weld (and cost a third of a step).
        self._finger_contacts(body, enabled=False)
        return weld

    def _finger_contacts(self, body: int, enabled: bool) -> None:
        p, c = self._p, self._client
        for f in FINGER_JOINTS:
            p.setCollisionFilterPair(self._robot, body, f, -1, int(enabled), physicsClientId=c)

    def stop(self) -> None:
        """Hold the joints where they are now: targets = measured positions."""
        self._targets = self.joint_positions()
        self._velocities = [0.0] * len(ARM_JOINTS)
        self._seed[:7] = self._targets  # later IK continues from where the arm stopped
        self._command_arm()

    # --- state --------------------------------------------------------------------------

    def tcp(self) -> np.ndarray:
        state = self._p.getLinkState(self._robot, TCP_LINK, computeForwardKinematics=True,
                                     physicsClientId=self._client)
        return np.array(state[4], dtype=float)

    def object_positions(self) -> dict[str, np.ndarray]:
        p, c = self._p, self._client
        return {name: np.array(p.getBasePositionAndOrientation(body, physicsClientId=c)[0], dtype=float)
                for name, body in self._bodies.items()}

    def held_object(self) -> str | None:
        """The object in the hand. A weld does not slip; a friction grasp is re-checked
        (both fingers still touch it), at most once per physics step."""
        if self._held is not None and self._weld is None and self._held_checked != self._steps:
            self._held = self._object_between_fingers()
            self._held_checked = self._steps
        return self._held

    def sim_time(self) -> float:
        return self._steps / PHYSICS_RATE

    def joint_positions(self) -> list[float]:
        states = self._p.getJointStates(self._robot, list(ARM_JOINTS), physicsClientId=self._client)
        return [s[0] for s in states]

    # --- recording ----------------------------------------------------------------------

    def start_recording(self, path: str, every: int | None = None) -> None:
        """Capture every `every`-th physics step (default: recording.DEFAULT_EVERY); the
        GIF is written by `finish_recording` (and by `close`)."""
        from capc.runtime.recording import DEFAULT_EVERY, Recorder

        self._recorder = Recorder(self._p, self._client, path, every=every or DEFAULT_EVERY,
                                  physics_rate=PHYSICS_RATE)

    def finish_recording(self) -> str | None:
        """Write the animation; returns its path (None when nothing was being recorded)."""
        recorder, self._recorder = self._recorder, None
        return recorder.save() if recorder is not None else None

    def close(self) -> None:
        if self._client is None:
            return
        try:
            self.finish_recording()
        finally:
            self._p.disconnect(physicsClientId=self._client)
            self._client = None

    def __enter__(self) -> "SimBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
