"""Synthetic skeleton datasets in the official PYSKL / MMAction2 2D pickle format.

A COCO-17 stick figure is posed by forward kinematics on a small body model
(segment lengths in units of standing height), animated by a motion primitive per
class (a mix of two for the UCF101-sized set), viewed from a random yaw and camera
elevation, scaled and placed in a 340x256 frame, then spoiled the way a pose
estimator spoils real video: joint noise that grows as the confidence falls,
occluded joints with low scores, jumps, missed frames (zero keypoints and zero
scores), bystanders, and person slots filled per frame in detection order, so
that slot 0 is not always one person.

The result is a dict exactly like `ucf101_2d.pkl`:

    {'split': {'train1': [frame_dir, ...], 'test1': [...]},
     'annotations': [{'frame_dir': 'v_<Class>_gXX_cYY', 'label': int,
                      'total_frames': T, 'img_shape': (256, 340),
                      'original_shape': (256, 340),
                      'keypoint': float16 (M, T, 17, 2) pixels (x, y),
                      'keypoint_score': float16 (M, T, 17)}, ...],
     'class_names': [...], 'layout': 'coco17', 'source': '...'}

Clip `v_<Class>_gXX_cYY` belongs to group XX; the clips of a group share an
actor (body proportions, size, tempo, viewpoint, footage quality), and the
splits follow the UCF101 rule (test groups 1-7 for split 1), so a test set
measures generalisation to unseen actors.  Everything is drawn from
`np.random.Generator`s seeded by (seed, stream, class, group, clip): the same
seed gives byte-identical arrays.

    python -m helpers.data.synthetic --out data/synthetic_default.pkl
    python -m helpers.data.synthetic --out /tmp/ucf101_synthetic.pkl --full
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from helpers.data.class_names import UCF101_CLASS_NAMES
from helpers.data.clip_ids import parse_clip_id
from helpers.data.dataset import save_dataset
from helpers.data.layouts import COCO17

IMG_SHAPE = (256, 340)  # (height, width) of the UCF101 / HMDB51 skeleton pickles
TAU = 2 * np.pi

_J = {name: i for i, name in enumerate(COCO17.joint_names)}

# Seed-stream tags, so that e.g. a group's actor and its clips never share a stream.
_ACTOR, _CLIP, _CLASS, _LAYOUT = 1, 2, 3, 4


# ----------------------------------------------------------------------------
# Body model and forward kinematics
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Body:
    """Segment lengths in units of standing height (floor to top of head = 1)."""

    torso: float = 0.30  # mid-hip to mid-shoulder
    shoulder_half: float = 0.115  # mid-shoulder to shoulder
    hip_half: float = 0.085  # mid-hip to hip
    upper_arm: float = 0.17
    forearm: float = 0.155  # elbow to wrist
    thigh: float = 0.245
    shin: float = 0.245  # knee to ankle
    neck_to_nose: float = 0.105
    ankle_height: float = 0.04

    def varied(self, rng: np.random.Generator, spread: float = 0.06) -> Body:
        """The same body with every length scaled by an independent factor 1 + N(0, spread)."""
        values = {k: v * (1 + spread * rng.standard_normal()) for k, v in vars(self).items()}
        return Body(**values)


# Degrees of freedom of a pose (radians, except `lift` and `advance` in body heights).
# Limbs hang from the shoulder / hip: `elev` is the angle from hanging straight
# down (pi/2 horizontal, pi straight up, negative swings backwards when `azim` is
# pi/2); `azim` turns the limb about the vertical: 0 sideways out, pi/2 forwards,
# beyond pi/2 across the body.  `elbow` / `knee` bend the second segment, the
# elbow towards `elbow_plane` (0 forwards, pi/2 upwards), the knee backwards.
DOF_NAMES = (
    "lean", "side_lean", "twist",
    "l_arm_elev", "l_arm_azim", "l_elbow", "l_elbow_plane",
    "r_arm_elev", "r_arm_azim", "r_elbow", "r_elbow_plane",
    "l_leg_elev", "l_leg_azim", "l_knee",
    "r_leg_elev", "r_leg_azim", "r_knee",
    "lift", "advance",
)
_D = {name: i for i, name in enumerate(DOF_NAMES)}
_NEUTRAL = {
    "l_arm_elev": 0.12, "l_arm_azim": 0.5, "l_elbow": 0.2, "l_elbow_plane": 0.4,
    "r_arm_elev": 0.12, "r_arm_azim": 0.5, "r_elbow": 0.2, "r_elbow_plane": 0.4,
    "l_leg_elev": 0.05, "l_knee": 0.04, "r_leg_elev": 0.05, "r_knee": 0.04,
}
NEUTRAL_POSE = np.array([_NEUTRAL.get(name, 0.0) for name in DOF_NAMES])  # (D,)
# swapping every l_ DOF with its r_ twin (and negating the sideways ones) mirrors a motion
_MIRROR = np.array([_D[n.replace("l_", "r_", 1) if n.startswith("l_") else n.replace("r_", "l_", 1)]
                    for n in DOF_NAMES])
_MIRROR_SIGN = np.array([-1.0 if n in ("side_lean", "twist") else 1.0 for n in DOF_NAMES])
_ARM_DOFS = np.array(["arm" in n or "elbow" in n for n in DOF_NAMES])
# typical size of a person's fidgeting on each DOF (radians / body heights)
_FIDGET = np.where(_ARM_DOFS, 0.08, 0.04) * np.array([n not in ("advance", "lift") for n in DOF_NAMES])


_SIDES = np.array([1.0, -1.0])  # body's left (+x), body's right
_LR = {part: np.array([_J[f"left_{part}"], _J[f"right_{part}"]])  # joint pairs, (2,)
       for part in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")}
_DOF_LR = {dof: np.array([_D[f"l_{dof}"], _D[f"r_{dof}"]])  # DOF pairs, (2,)
           for dof in ("arm_elev", "arm_azim", "elbow", "elbow_plane", "leg_elev", "leg_azim", "knee")}
_KNEE_TOWARDS = np.array([0.0, -1.0, -1.0]) / np.sqrt(2)  # knees bend backwards


def _limb_direction(cos_elev, sin_elev, cos_azim, sin_azim) -> np.ndarray:
    """Unit vectors (T, 2, 3) of the left and right limbs of a joint pair, from (T, 2) angle cosines/sines."""
    return np.stack([_SIDES * sin_elev * cos_azim, -cos_elev, sin_elev * sin_azim], axis=-1)


def _bend(upper: np.ndarray, cos_angle: np.ndarray, sin_angle: np.ndarray, towards: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3): `upper` (..., 3) turned by an angle (...) towards `towards` (..., 3)."""
    perp = towards - np.sum(towards * upper, axis=-1, keepdims=True) * upper
    perp /= np.sqrt(np.sum(perp * perp, axis=-1, keepdims=True)) + 1e-9
    return cos_angle[..., None] * upper + sin_angle[..., None] * perp


def _rotate_torso(points: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Points (T, K, 3) leaned sideways, then forwards, then twisted about the vertical.

    `cos`, `sin` (T, D) are those of the pose, read at the lean, side_lean and twist DOFs.
    """
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    c, s = cos[:, _D["side_lean"], None], sin[:, _D["side_lean"], None]
    x, y = c * x - s * y, s * x + c * y
    c, s = cos[:, _D["lean"], None], sin[:, _D["lean"], None]
    y, z = c * y - s * z, s * y + c * z
    c, s = cos[:, _D["twist"], None], sin[:, _D["twist"], None]
    x, z = c * x + s * z, c * z - s * x
    return np.stack([x, y, z], axis=-1)


def skeleton_3d(pose: np.ndarray, body: Body, travels: bool = False) -> np.ndarray:
    """COCO-17 joints (T, 17, 3) in body heights for poses (T, D); x left, y up, z forwards.

    The figure stands on the floor (y = 0).  Unless it `travels`, the planted
    foot stays put horizontally, so a kick or a squat does not slide the body;
    a travelling figure moves forwards by its `advance` DOF instead.
    """
    num_frames = len(pose)
    b = body
    side = _SIDES[:, None]  # (2, 1)
    cos, sin = np.cos(pose), np.sin(pose)  # (T, D) each, computed once
    pair = lambda table, dof: table[:, _DOF_LR[dof]]  # noqa: E731  (T, 2): left and right
    joints = np.zeros((num_frames, COCO17.num_joints, 3))

    # torso frame, origin at mid-hip: head, shoulders, arms
    neck = np.array([0.0, b.torso, 0.0])
    nose = neck + [0.0, b.neck_to_nose, 0.07]
    joints[:, _J["nose"]] = nose
    joints[:, _LR["eye"]] = nose + side * [0.032, 0.0, 0.0] + [0.0, 0.03, -0.02]
    joints[:, _LR["ear"]] = nose + side * [0.072, 0.0, 0.0] + [0.0, 0.01, -0.09]
    shoulder = neck + side * [b.shoulder_half, 0.0, 0.0]  # (2, 3)
    upper = _limb_direction(pair(cos, "arm_elev"), pair(sin, "arm_elev"),
                            pair(cos, "arm_azim"), pair(sin, "arm_azim"))  # (T, 2, 3)
    towards = np.stack([np.broadcast_to(0.05 * _SIDES, (num_frames, 2)), pair(sin, "elbow_plane"),
                        pair(cos, "elbow_plane")], axis=-1)
    fore = _bend(upper, pair(cos, "elbow"), pair(sin, "elbow"), towards)
    elbow = shoulder + b.upper_arm * upper
    joints[:, _LR["shoulder"]] = shoulder
    joints[:, _LR["elbow"]] = elbow
    joints[:, _LR["wrist"]] = elbow + b.forearm * fore
    joints = _rotate_torso(joints, cos, sin)

    # pelvis frame (upright): legs
    hip = side * [b.hip_half, 0.0, 0.0]  # (2, 3)
    thigh = _limb_direction(pair(cos, "leg_elev"), pair(sin, "leg_elev"),
                            pair(cos, "leg_azim"), pair(sin, "leg_azim"))  # (T, 2, 3)
    shin = _bend(thigh, pair(cos, "knee"), pair(sin, "knee"), _KNEE_TOWARDS)
    knee = hip + b.thigh * thigh
    joints[:, _LR["hip"]] = hip
    joints[:, _LR["knee"]] = knee
    joints[:, _LR["ankle"]] = knee + b.shin * shin

    ankles = joints[:, _LR["ankle"]]  # (T, 2, 3)
    lowest = ankles[:, :, 1].min(axis=1)
    joints[:, :, 1] += (b.ankle_height - lowest + pose[:, _D["lift"]])[:, None]
    if travels:
        joints[:, :, 2] += pose[:, _D["advance"]][:, None]
    else:  # keep the (softly chosen) lower foot where it is
        weight = np.exp(-(ankles[:, :, 1] - lowest[:, None]) / 0.02)[:, :, None]
        anchor = (weight * ankles).sum(axis=1) / weight.sum(axis=1)  # (T, 3)
        joints[:, :, [0, 2]] -= anchor[:, None, [0, 2]]
    return joints


# ----------------------------------------------------------------------------
# Motion primitives: phase (T,) and amplitude -> absolute DOF values
# ----------------------------------------------------------------------------

def _bump(u: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A Gaussian bump on the cycle position u in [0, 1)."""
    return np.exp(-0.5 * ((u - centre) / width) ** 2)


def _cycle(phi: np.ndarray) -> np.ndarray:
    return (phi / TAU) % 1.0


def _waving(phi, amp, rng):
    sides = ("r",) if rng.random() < 0.75 else ("l", "r")
    overhead = rng.random() < 0.3  # a big wave with the whole straight arm
    raised = rng.uniform(-0.25, 0.25)
    out = {}
    for k, s in enumerate(sides):
        sway = np.sin(phi + k * np.pi)
        if overhead:
            out.update({f"{s}_arm_elev": 2.35 + raised + 0.45 * amp * sway, f"{s}_arm_azim": 0.2,
                        f"{s}_elbow": 0.15})
        else:
            out.update({f"{s}_arm_elev": 1.45 + raised, f"{s}_arm_azim": 0.35,
                        f"{s}_elbow": 1.5 + 0.5 * amp * sway, f"{s}_elbow_plane": 1.45})
    return out


def _arm_circles(phi, amp, rng):
    sides = ("l", "r") if rng.random() < 0.8 else ("r",)
    out = {}
    if rng.random() < 0.25:  # windmill: full circles beside the body
        lag = np.pi if rng.random() < 0.5 else 0.0
        for k, s in enumerate(sides):
            out.update({f"{s}_arm_elev": phi + k * lag, f"{s}_arm_azim": 1.35, f"{s}_elbow": 0.1})
        return out
    direction = rng.choice([-1.0, 1.0])
    radius = 0.55 * amp
    for s in sides:
        out.update({f"{s}_arm_elev": np.pi / 2 + rng.uniform(-0.2, 0.1) + radius * np.cos(phi),
                    f"{s}_arm_azim": 0.15 + direction * radius * np.sin(phi), f"{s}_elbow": 0.1})
    return out


def _clapping(phi, amp, rng):
    apart = 0.5 - 0.5 * np.cos(phi)
    height = rng.choice([1.25, 1.25, 1.0, 2.6])  # chest height, lower, or overhead
    out = {}
    for s in ("l", "r"):
        out.update({f"{s}_arm_elev": height + 0.1 * apart, f"{s}_arm_azim": 2.0 - 0.8 * amp * apart,
                    f"{s}_elbow": 0.7 + 0.3 * apart, f"{s}_elbow_plane": 0.6})
    return out


def _guard(out: dict, rng) -> dict:
    """Fists up by the chin, a fighter's stance."""
    for s in ("l", "r"):
        out.update({f"{s}_arm_elev": 0.6, f"{s}_arm_azim": 1.75, f"{s}_elbow": 2.2,
                    f"{s}_elbow_plane": 1.1})
    out.update({"l_leg_azim": 1.57, "l_leg_elev": 0.2, "l_knee": 0.25, "r_knee": 0.25})
    return out


def _punching(phi, amp, rng):
    out = _guard({}, rng)
    single = rng.random() < 0.25
    reach = {}
    for s, lag in (("r", 0.0), ("l", np.pi)):
        reach[s] = 0.0 if single and s == "l" else np.clip(np.sin(phi + lag), 0, None) ** 1.5 * amp
        out.update({f"{s}_arm_elev": 0.6 + 0.9 * reach[s], f"{s}_arm_azim": 1.75 + 0.1 * reach[s],
                    f"{s}_elbow": 2.2 - 2.0 * reach[s]})
    out["twist"] = 0.3 * (reach["r"] - reach["l"])
    return out


def _jumping_jack(phi, amp, rng):
    spread = 0.5 - 0.5 * np.cos(phi)
    reach = rng.choice([2.75, 2.75, 1.6])  # full jacks or half jacks (arms to shoulder height)
    out = {"lift": 0.05 * amp * np.abs(np.sin(phi))}
    for s in ("l", "r"):
        out.update({f"{s}_arm_elev": 0.12 + reach * amp * spread, f"{s}_arm_azim": 0.1,
                    f"{s}_elbow": 0.1 + 0.3 * spread, f"{s}_leg_elev": 0.04 + 0.33 * amp * spread,
                    f"{s}_leg_azim": 0.0})
    return out


def _squats(phi, amp, rng):
    depth = amp * (0.5 - 0.5 * np.cos(phi))
    arms = rng.integers(3)  # forwards, behind the head, hanging
    out = {"lean": 0.55 * depth}
    for s in ("l", "r"):
        out.update({f"{s}_leg_elev": 1.45 * depth, f"{s}_leg_azim": 1.2, f"{s}_knee": 2.0 * depth})
        if arms == 0:
            out.update({f"{s}_arm_elev": 0.2 + 1.3 * depth, f"{s}_arm_azim": 1.6})
        elif arms == 1:
            out.update({f"{s}_arm_elev": 2.4, f"{s}_arm_azim": 0.3, f"{s}_elbow": 2.4,
                        f"{s}_elbow_plane": 1.5})
        else:
            out.update({f"{s}_arm_elev": 0.5 * depth, f"{s}_arm_azim": 1.4})
    return out


def _bowing(phi, amp, rng):
    q = np.clip((0.5 - 0.5 * np.cos(phi) - 0.15) / 0.7, 0, 1)
    bow = (0.5 + 0.7 * amp) * q * q * (3 - 2 * q)  # bend, hold, come back up
    clasped = rng.random() < 0.4
    out = {"lean": bow}
    for s in ("l", "r"):
        out.update({f"{s}_knee": 0.15 * bow, f"{s}_leg_elev": 0.1 * bow, f"{s}_leg_azim": 1.57})
        if clasped:
            out.update({f"{s}_arm_elev": 0.35 + 0.5 * bow, f"{s}_arm_azim": 2.1, f"{s}_elbow": 0.6})
        else:
            out.update({f"{s}_arm_elev": 0.9 * bow, f"{s}_arm_azim": 1.57})
    return out


def _jumping(phi, amp, rng):
    u = _cycle(phi)
    crouch = amp * (_bump(u, 0.22, 0.08) + 0.7 * _bump(u, 0.82, 0.06))
    air = np.where((u > 0.32) & (u < 0.72), np.sin(np.pi * (u - 0.32) / 0.4), 0.0)
    tuck = rng.random() < 0.3
    out = {"lean": 0.45 * crouch, "lift": rng.uniform(0.1, 0.3) * amp * air}
    for s in ("l", "r"):
        out.update({f"{s}_leg_elev": 1.1 * crouch + (1.3 * air if tuck else 0.0),
                    f"{s}_leg_azim": 1.3, f"{s}_knee": 1.7 * crouch + (1.9 * air if tuck else 0.0),
                    f"{s}_arm_elev": -0.6 * crouch + 2.4 * amp * air, f"{s}_arm_azim": 1.5})
    return out


def _walking(phi, amp, rng):
    swing = 0.42 * amp * np.sin(phi)
    out = {"advance": 0.75 * amp * phi / TAU, "lean": 0.06}
    for s, sign, lag in (("l", 1.0, 0.0), ("r", -1.0, np.pi)):
        out.update({f"{s}_leg_elev": sign * swing, f"{s}_leg_azim": 1.57,
                    f"{s}_knee": 0.05 + 0.9 * amp * np.clip(np.cos(phi + lag - 0.3), 0, None) ** 2,
                    f"{s}_arm_elev": -0.8 * sign * swing, f"{s}_arm_azim": 1.57, f"{s}_elbow": 0.35})
    return out


def _kicking(phi, amp, rng):
    out = _guard({}, rng)
    side_kick = rng.random() < 0.25
    legs = (("r", 0.0),) if rng.random() < 0.6 else (("r", 0.0), ("l", np.pi))
    for s, lag in legs:
        u = _cycle(phi + lag)
        chamber, kick = _bump(u, 0.35, 0.08), _bump(u, 0.5, 0.07)
        out.update({f"{s}_leg_elev": amp * 1.4 * _bump(u, 0.45, 0.12),
                    f"{s}_leg_azim": 0.4 if side_kick else 1.57,
                    f"{s}_knee": 1.6 * amp * chamber})
        out["lean"] = out.get("lean", 0.0) - 0.25 * kick
    return out


def _idle(phi, amp, rng):
    """Standing about: a static resting pose; the fidgeting comes from `_animate`."""
    rest = rng.integers(3)  # arms hanging, hands on the hips, arms folded
    out = {}
    for s in ("l", "r"):
        if rest == 1:
            out.update({f"{s}_arm_elev": 0.55, f"{s}_arm_azim": 0.3, f"{s}_elbow": 1.7,
                        f"{s}_elbow_plane": 0.2})
        elif rest == 2:
            out.update({f"{s}_arm_elev": 0.3, f"{s}_arm_azim": 1.9, f"{s}_elbow": 1.9,
                        f"{s}_elbow_plane": 1.0})
    return out


@dataclass(frozen=True)
class Motion:
    """A kind of movement: the primitive that poses the body, and its tempo."""

    primitive: Callable[[np.ndarray, float, np.random.Generator], dict]
    period: tuple[float, float]  # frames per cycle (video at 25-30 fps)
    travels: bool = False  # moves through the scene; the camera pans after it
    side_view: bool = False  # usually filmed from the side


MOTIONS: dict[str, Motion] = {
    "Waving": Motion(_waving, (14, 40)),
    "ArmCircles": Motion(_arm_circles, (18, 45)),
    "Clapping": Motion(_clapping, (10, 28)),
    "Punching": Motion(_punching, (14, 36)),
    "JumpingJack": Motion(_jumping_jack, (20, 40)),
    "Squats": Motion(_squats, (35, 80)),
    "Bowing": Motion(_bowing, (50, 110)),
    "Jumping": Motion(_jumping, (28, 55)),
    "Walking": Motion(_walking, (24, 40), travels=True, side_view=True),
    "Kicking": Motion(_kicking, (30, 60)),
}
DEFAULT_CLASS_NAMES: tuple[str, ...] = tuple(MOTIONS)
_IDLE = Motion(_idle, (60, 120))


# ----------------------------------------------------------------------------
# Actors, animation and rendering
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Traits shared by the clips of one group (one actor and one setting in UCF101 terms)."""

    body: Body
    height_px: float  # standing height in pixels
    tempo: float  # multiplies every period: above 1 is a slow mover
    vigour: float  # multiplies every amplitude
    yaw: float  # usual viewing angle, radians (0: facing the camera)
    pitch: float  # camera elevation, radians
    x_frac: float  # usual horizontal position, fraction of the image width
    feet_frac: float  # usual height of the feet, fraction of the image height
    left_handed: bool
    quality: float  # added to every confidence score of this footage


def sample_actor(rng: np.random.Generator) -> Actor:
    return Actor(
        body=Body().varied(rng),
        height_px=rng.uniform(95.0, 220.0),
        tempo=np.exp(rng.normal(0.0, 0.18)),
        vigour=rng.uniform(0.8, 1.1),
        yaw=rng.normal(0.0, 0.4),
        pitch=rng.uniform(0.0, 0.35),
        x_frac=rng.uniform(0.3, 0.7),
        feet_frac=rng.uniform(0.8, 0.98),
        left_handed=bool(rng.random() < 0.15),
        quality=rng.uniform(-0.12, 0.04),
    )


def _smooth_noise(rng: np.random.Generator, num_frames: int, shape: tuple, sigma, spacing: float):
    """Slowly varying noise (T, *shape), RMS about `sigma`: Gaussian knots every `spacing` frames,
    joined by smoothstep interpolation (cheap enough to call several times per clip)."""
    t = (np.arange(num_frames) + rng.uniform(0, spacing)) / spacing
    knots = rng.standard_normal((int(t[-1]) + 2, *shape))
    i = t.astype(int)
    w = (t - i) * (t - i) * (3 - 2 * (t - i))
    w = w.reshape(-1, *([1] * len(shape)))
    # interpolation halves the variance midway between knots; 1.25 restores it on average
    return 1.25 * sigma * ((1 - w) * knots[i] + w * knots[i + 1])


def _envelope(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """How much the person is doing the action (T,) in [0, 1]: idle moments at the ends."""
    t = np.arange(num_frames)
    start = rng.integers(0, int(0.15 * num_frames) + 1) if rng.random() < 0.5 else -50
    end = num_frames - (rng.integers(0, int(0.15 * num_frames) + 1) if rng.random() < 0.4 else -50)
    ramp = rng.uniform(5.0, 12.0)
    x = np.clip((t - start) / ramp, 0, 1) * np.clip((end - t) / ramp, 0, 1)
    return x * x * (3 - 2 * x)


def _animate(rng: np.random.Generator, num_frames: int, parts: list[tuple[Motion, float]],
             actor: Actor, offset: np.ndarray | float = 0.0) -> np.ndarray:
    """Poses (T, D): a weighted mix of motions on one shared phase, plus fidgeting and `offset`."""
    period = rng.uniform(*parts[0][0].period) * actor.tempo
    env = _envelope(rng, num_frames)
    rate = TAU / period * (1.0 + _smooth_noise(rng, num_frames, (), 0.12, 25))
    phi = rng.uniform(0, TAU) + np.cumsum(rate * env)
    amp = actor.vigour * rng.uniform(0.7, 1.1)
    delta = np.zeros((num_frames, len(DOF_NAMES)))
    for motion, weight in parts:
        pose = np.tile(NEUTRAL_POSE, (num_frames, 1))
        for name, value in motion.primitive(phi, amp, rng).items():
            pose[:, _D[name]] = value
        delta += weight * (pose - NEUTRAL_POSE)
    advance = delta[:, _D["advance"]].copy()  # already stops with the phase
    delta *= env[:, None]
    delta[:, _D["advance"]] = advance
    fidget = _smooth_noise(rng, num_frames, (len(DOF_NAMES),), _FIDGET * rng.uniform(0.5, 1.5), 16)
    pose = NEUTRAL_POSE + delta + offset + fidget + rng.normal(0, 0.04, len(DOF_NAMES)) * (_FIDGET > 0)
    if rng.random() < (0.85 if actor.left_handed else 0.15):
        pose = pose[:, _MIRROR] * _MIRROR_SIGN
    return pose


_PART = [name.split("_")[-1] for name in COCO17.joint_names]  # "left_wrist" -> "wrist"
_BASE_SCORE = np.array([{"nose": 0.93, "eye": 0.92, "ear": 0.84, "shoulder": 0.88, "elbow": 0.82,
                         "wrist": 0.75, "hip": 0.8, "knee": 0.78, "ankle": 0.73}[p] for p in _PART])
_PAN_KERNEL = 0.08 * 0.92 ** np.arange(120)  # a camera operator's lag of about 12 frames
# limb joints that a pose estimator often loses for a while
_FRAGILE = np.array([j for j, p in enumerate(_PART) if p in ("wrist", "ankle", "elbow", "knee")])


def _render(rng: np.random.Generator, pose: np.ndarray, actor: Actor, travels: bool,
            side_view: bool, quality: float, height_px: float, x_frac: float, feet_frac: float):
    """Keypoints (T, 17, 2) in pixels and scores (T, 17) of one person seen by one camera."""
    num_frames = len(pose)
    height, width = IMG_SHAPE
    joints = skeleton_3d(pose, actor.body, travels)  # (T, 17, 3)
    if travels:  # the camera pans after the walker, lagging behind
        forward = joints[:, :, 2].mean(axis=1)
        lagged = np.convolve(forward, _PAN_KERNEL)[:num_frames]  # exponential smoothing
        joints[:, :, 2] -= lagged[:, None]

    yaw = actor.yaw + rng.normal(0.0, 0.2)
    if side_view:
        yaw += rng.choice([-1.0, 1.0]) * rng.uniform(0.9, 1.6)
    if rng.random() < 0.05:  # seen from behind
        yaw += np.pi
    pitch = actor.pitch + rng.normal(0.0, 0.05)
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    x, y, z = joints[..., 0], joints[..., 1], joints[..., 2]
    x, z = cy * x + sy * z, -sy * x + cy * z
    y, depth = cp * y - sp * z, sp * y + cp * z  # image up, towards the camera
    distance = rng.uniform(4.0, 10.0)  # camera distance in body heights: weak perspective
    zoom = height_px / (1.0 - depth / distance)  # (T, 17)
    drift = _smooth_noise(rng, num_frames, (2,), 0.02 * height_px, 50) + np.outer(
        np.arange(num_frames) / num_frames, rng.normal(0.0, 0.05 * height_px, 2))
    u = width * x_frac + zoom * x + drift[:, :1]
    v = height * feet_frac - zoom * y + drift[:, 1:]

    # confidence: a per-joint base, the footage, slow wobble, occlusion behind the torso
    # (judged on horizontal depth, so the camera's elevation does not hide the feet)
    torso_z = z[:, [_J["left_shoulder"], _J["right_shoulder"], _J["left_hip"], _J["right_hip"]]]
    hidden = np.clip((torso_z.mean(axis=1, keepdims=True) - z - 0.03) / 0.08, 0, 1)
    score = _BASE_SCORE + quality + _smooth_noise(rng, num_frames, (17,), 0.05, 10) - 0.45 * hidden
    for _ in range(rng.poisson(1.5)):  # spells of a poorly seen limb joint
        joint = _FRAGILE[rng.integers(len(_FRAGILE))]
        start = rng.integers(num_frames)
        score[start:start + rng.integers(5, 40), joint] -= rng.uniform(0.3, 0.6)
    outside = (u < 0) | (u >= width) | (v < 0) | (v >= height)
    score = np.where(outside, score * rng.uniform(0.2, 0.5), score)
    score = np.clip(score, 0.02, 0.995)

    # position errors grow as confidence falls; rare jumps to a wrong place
    sigma = height_px * (0.004 + 0.04 * (1 - score) ** 2)[..., None]
    points = np.stack([u, v], axis=-1) + sigma * rng.standard_normal((num_frames, 17, 2))
    points += _smooth_noise(rng, num_frames, (17, 2), 0.006 * height_px, 6)
    jumps = rng.random((num_frames, 17)) < 0.006
    points[jumps] += rng.normal(0.0, 0.1 * height_px, (int(jumps.sum()), 2))
    score[jumps] = rng.uniform(0.05, 0.4, int(jumps.sum()))
    shaken = rng.random(num_frames) < 0.02  # the whole box jitters
    points[shaken] += rng.normal(0.0, 0.02 * height_px, (int(shaken.sum()), 1, 2))
    return points, score


def _person(rng: np.random.Generator, num_frames: int, parts: list[tuple[Motion, float]],
            actor: Actor, offset: np.ndarray | float = 0.0, bystander: bool = False):
    """One person's keypoints (T, 17, 2), scores (T, 17) and detected frames (T,) bool."""
    pose = _animate(rng, num_frames, parts, actor, offset)
    if bystander:  # smaller (further away), less sharp, off to one side
        height_px = actor.height_px * rng.uniform(0.45, 0.85)
        x_frac = (actor.x_frac + rng.choice([-1, 1]) * rng.uniform(0.25, 0.4)) % 1.0
        feet_frac = actor.feet_frac - rng.uniform(0.0, 0.15)
        quality = actor.quality - rng.uniform(0.05, 0.25)
    else:
        height_px = actor.height_px * rng.uniform(0.9, 1.1)
        x_frac = actor.x_frac + rng.normal(0.0, 0.05)
        feet_frac = actor.feet_frac + rng.normal(0.0, 0.03)
        quality = actor.quality + rng.normal(0.0, 0.03)
    # the camera keeps the head in the picture: a person too tall for it loses the feet instead
    feet_frac = max(feet_frac, 0.97 * height_px / IMG_SHAPE[0] + rng.uniform(0.03, 0.15))
    motion = parts[0][0]
    points, score = _render(rng, pose, actor, motion.travels, motion.side_view and not bystander,
                            quality, height_px, x_frac, feet_frac)
    seen = np.ones(num_frames, dtype=bool)
    if bystander:  # in view for one stretch of the clip
        span = rng.integers(min(10, num_frames), num_frames + 1)
        start = rng.integers(0, num_frames - span + 1)
        seen[:] = False
        seen[start:start + span] = True
    if rng.random() < (0.6 if bystander else 0.3):  # missed detections
        for _ in range(1 + rng.poisson(1.5)):
            start = rng.integers(num_frames)
            seen[start:start + rng.integers(1, 7)] = False
    if not seen.any():
        seen[rng.integers(num_frames)] = True
    return points, score, seen


def _detection_slots(rng: np.random.Generator, people: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Stack people into slots (M, T, 17, 2) / (M, T, 17), filled per frame in detection order.

    Usually the main person (first) is detected first, but on some stretches the
    order flips, and a frame where someone is missed moves the others up a slot.
    """
    points = np.stack([p[0] for p in people])  # (P, T, 17, 2)
    score = np.stack([p[1] for p in people])  # (P, T, 17)
    seen = np.stack([p[2] for p in people])  # (P, T)
    num_people, num_frames = seen.shape
    rank = np.tile(np.arange(num_people, dtype=float)[:, None], (1, num_frames))
    if num_people > 1:
        for _ in range(rng.poisson(1.0)):  # stretches where a bystander is found first
            start = rng.integers(num_frames)
            who = rng.integers(1, num_people)
            rank[who, start:start + rng.integers(1, 15)] = -1
    order = np.argsort(np.where(seen, rank, num_people + 1), axis=0, kind="stable")  # (P, T)
    frames = np.arange(num_frames)
    points, score, seen = points[order, frames], score[order, frames], seen[order, frames]
    points = np.where(seen[:, :, None, None], points, 0.0)
    score = np.where(seen[:, :, None], score, 0.0)
    return points.astype(np.float16), score.astype(np.float16)


def _annotation(frame_dir: str, label: int, keypoint: np.ndarray, score: np.ndarray) -> dict:
    return {
        "frame_dir": frame_dir,
        "label": int(label),
        "total_frames": int(keypoint.shape[1]),
        "img_shape": IMG_SHAPE,
        "original_shape": IMG_SHAPE,
        "keypoint": keypoint,
        "keypoint_score": score,
    }


def ucf101_splits(frame_dirs: list[str], num_splits: int = 3) -> dict[str, list[str]]:
    """The official UCF101 rule: split k tests on groups 7(k-1)+1 .. 7k and trains on the rest."""
    splits = {}
    for k in range(1, num_splits + 1):
        test_groups = range(7 * (k - 1) + 1, 7 * k + 1)
        groups = {d: parse_clip_id(d).group for d in frame_dirs}
        splits[f"train{k}"] = [d for d in frame_dirs if groups[d] not in test_groups]
        splits[f"test{k}"] = [d for d in frame_dirs if groups[d] in test_groups]
    return splits


# ----------------------------------------------------------------------------
# The two datasets
# ----------------------------------------------------------------------------

def generate_default_dataset(seed: int = 0) -> dict:
    """The project's default data: 10 classes of full-body motion, ~400 clips, split 1 only.

    Clips last 40-300 frames; 25 groups per class with 1-2 clips each; about 15% of
    clips show a bystander as a second person.  Returns the PYSKL pickle dict.
    """
    annotations = []
    for label, name in enumerate(DEFAULT_CLASS_NAMES):
        motion = MOTIONS[name]
        for group in range(1, 26):
            actor_rng = np.random.default_rng([seed, _ACTOR, label, group])
            num_clips = 2 if actor_rng.random() < 0.6 else 1
            actor = sample_actor(actor_rng)
            for clip in range(1, num_clips + 1):
                rng = np.random.default_rng([seed, _CLIP, label, group, clip])
                num_frames = int(np.clip(rng.lognormal(np.log(110.0), 0.5), 40, 300))
                people = [_person(rng, num_frames, [(motion, 1.0)], actor)]
                if rng.random() < 0.15:
                    people.append(_person(rng, num_frames, [(_IDLE, 1.0)], actor, bystander=True))
                keypoint, score = _detection_slots(rng, people)
                annotations.append(_annotation(f"v_{name}_g{group:02d}_c{clip:02d}", label, keypoint, score))
    frame_dirs = [a["frame_dir"] for a in annotations]
    split = ucf101_splits(frame_dirs, num_splits=1)
    return {
        "split": split,
        "annotations": annotations,
        "class_names": list(DEFAULT_CLASS_NAMES),
        "layout": COCO17.name,
        "source": f"synthetic: helpers.data.synthetic.generate_default_dataset(seed={seed}); "
                  "stick-figure motions, not real video",
    }


# A few UCF101 classes get the motion that they plainly are; the rest a random mix.
_UCF101_MOTIONS = {
    "BodyWeightSquats": "Squats", "Lunges": "Squats", "JumpingJack": "JumpingJack",
    "Punch": "Punching", "BoxingPunchingBag": "Punching", "BoxingSpeedBag": "Punching",
    "WalkingWithDog": "Walking", "BandMarching": "Walking", "MilitaryParade": "Walking",
    "JumpRope": "Jumping", "TrampolineJumping": "Jumping", "HighJump": "Jumping",
    "SoccerPenalty": "Kicking", "SoccerJuggling": "Kicking", "TaiChi": "ArmCircles",
}


@dataclass(frozen=True)
class _ClassStyle:
    parts: list  # [(Motion, weight), ...]: the class's movement, a mix of primitives
    offset: np.ndarray  # (D,) a posture held throughout, e.g. arms raised to an instrument
    tempo: float
    size: float  # typical person size relative to the group's actor
    two_person: float  # chance that a second person does the same thing (pair sports)


def _class_style(rng: np.random.Generator, name: str) -> _ClassStyle:
    names = list(MOTIONS)
    primary = _UCF101_MOTIONS.get(name, names[rng.integers(len(names))])
    secondary = names[rng.integers(len(names))]
    # only the first part's `travels` counts, so a walking secondary only swings the limbs
    parts = [(MOTIONS[primary], 1.0), (MOTIONS[secondary], rng.uniform(0.0, 0.5))]
    offset = rng.normal(0.0, 0.25, len(DOF_NAMES)) * _ARM_DOFS
    offset[_D["lean"]] = rng.normal(0.0, 0.15)
    return _ClassStyle(parts, offset, float(np.exp(rng.normal(0, 0.25))), float(np.exp(rng.normal(0, 0.2))),
                       float(rng.uniform(0.0, 0.3)))


def _clips_per_group(rng: np.random.Generator, total: int, num_groups: int = 25) -> np.ndarray:
    """Clip counts (num_groups,) summing to `total`, 4-7 per group when the total allows."""
    low, high = min(4, total // num_groups), max(7, -(-total // num_groups))
    counts = np.full(num_groups, total // num_groups)
    counts[rng.permutation(num_groups)[: total % num_groups]] += 1
    for _ in range(4 * num_groups):  # shuffle clips between groups within the bounds
        src, dst = rng.integers(num_groups, size=2)
        if counts[src] > low and counts[dst] < high:
            counts[src] -= 1
            counts[dst] += 1
    return counts


def generate_fullsize_dataset(seed: int = 0, num_clips: int = 13320, progress: bool = True,
                              mean_slots: float | None = None) -> dict:
    """A UCF101-sized synthetic dataset: 101 classes (UCF101 names), splits 1-3, 1-3 person slots.

    Clip lengths follow UCF101 (30-900 frames, mean near 190).  Person slots follow
    the PYSKL UCF101 pickles, whose detector keeps bystanders and spurious
    detections: about 30% of clips have 1 slot, 30% 2 and 40% 3 (mean 2.1).  Extra
    slots are a second actor or a bystander seen for one stretch of the clip, so
    they are partly zero-filled.  With fewer than 13,320 clips every class keeps
    at least one clip while `num_clips >= 101`.
    `mean_slots` m instead draws 1 + Binomial(6, (m - 1) / 6) slots per clip (1-7, mean m):
    with m = 4 the file is as large as the real `ucf101_2d.pkl` (about 1 GB, which at
    UCF101's clip count and lengths in float16 needs about four slots per clip).
    Meant for scale tests and benchmarks: the motions are the default dataset's
    primitives mixed per class, not a faithful rendering of each class.
    """
    names = UCF101_CLASS_NAMES
    layout_rng = np.random.default_rng([seed, _LAYOUT])
    weights = layout_rng.uniform(0.75, 1.25, len(names))
    base = 1 if num_clips >= len(names) else 0
    extra = (num_clips - base * len(names)) * weights / weights.sum()
    quota = base + np.floor(extra).astype(int)
    quota[np.argsort(np.floor(extra) - extra)[: num_clips - quota.sum()]] += 1  # largest remainders

    annotations = []
    bar = tqdm(total=num_clips, desc="synthetic UCF101", unit="clip", disable=not progress)
    for label, name in enumerate(names):
        style = _class_style(np.random.default_rng([seed, _CLASS, label]), name)
        counts = _clips_per_group(np.random.default_rng([seed, _LAYOUT, label]), int(quota[label]))
        for group in range(1, 26):
            if counts[group - 1] == 0:
                continue
            actor = sample_actor(np.random.default_rng([seed, _ACTOR, label, group]))
            actor = replace(actor, tempo=actor.tempo * style.tempo, height_px=actor.height_px * style.size)
            for clip in range(1, counts[group - 1] + 1):
                rng = np.random.default_rng([seed, _CLIP, label, group, clip])
                num_frames = int(np.clip(rng.lognormal(np.log(160.0), 0.55), 30, 900))
                people = [_person(rng, num_frames, style.parts, actor, style.offset)]
                if mean_slots is None:
                    extra = rng.choice(3, p=[0.3, 0.3, 0.4])  # extra slots: 0, 1 or 2
                else:
                    extra = rng.binomial(6, (mean_slots - 1) / 6)
                for _ in range(extra):
                    if rng.random() < style.two_person:
                        people.append(_person(rng, num_frames, style.parts, sample_actor(rng), style.offset))
                    else:
                        people.append(_person(rng, num_frames, [(_IDLE, 1.0)], actor, bystander=True))
                keypoint, score = _detection_slots(rng, people)
                annotations.append(_annotation(f"v_{name}_g{group:02d}_c{clip:02d}", label, keypoint, score))
                bar.update(1)
    bar.close()
    return {
        "split": ucf101_splits([a["frame_dir"] for a in annotations]),
        "annotations": annotations,
        "class_names": list(names),
        "layout": COCO17.name,
        "source": f"synthetic: helpers.data.synthetic.generate_fullsize_dataset(seed={seed}, "
                  f"num_clips={num_clips}); UCF101 names and sizes, stick-figure motions, not real video",
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.data.synthetic",
        description="Write a synthetic COCO-17 skeleton dataset in the PYSKL 2D pickle format.")
    parser.add_argument("--out", required=True, type=Path, help="pickle file to write")
    parser.add_argument("--full", action="store_true",
                        help="UCF101-sized (101 classes, splits 1-3) instead of the 10-class default")
    parser.add_argument("--num-clips", type=int, default=13320, help="clips for --full (default 13320)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--mean-slots", type=float, default=None,
                        help="for --full: mean person slots per clip, 1-7 (4: as large as the real file, ~1 GB); "
                             "default: 1-3 slots, mean 2.1")
    args = parser.parse_args(argv)
    if args.mean_slots is not None and not 1 <= args.mean_slots <= 7:
        raise SystemExit(f"--mean-slots must lie between 1 and 7, got {args.mean_slots}")
    start = time.perf_counter()
    if args.full:
        dataset = generate_fullsize_dataset(args.seed, args.num_clips, mean_slots=args.mean_slots)
    else:
        dataset = generate_default_dataset(args.seed)
    path = save_dataset(dataset, args.out)
    print(f"wrote {len(dataset['annotations'])} clips, {len(dataset['class_names'])} classes, "
          f"{path.stat().st_size / 2**20:.1f} MiB to {path} in {time.perf_counter() - start:.1f} s")
    return path


if __name__ == "__main__":
    main()
