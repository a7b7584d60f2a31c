#!/usr/bin/env python3
"""Reference scoring service for the HTTP comparison: FastAPI + scikit-learn, same model.

Loads a RiskLoop model artifact (logistic regression trained with a feature spec), rebuilds its
stateless features in Python (numeric, boolean, categorical, hashed, contains, time_since, night,
hour, weekday, crosses; aggregates read as for a first event), scores with a scikit-learn
LogisticRegression carrying the artifact's coefficients, applies Platt calibration and the
policy's thresholds. It does less than RiskLoop: no decision log, no entity history, no reasons.

    RISKLOOP_MODEL=model.json RISKLOOP_POLICY=policy.json uvicorn reference_service:app --workers 2
"""
import json
import math
import os
from datetime import datetime

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sklearn.linear_model import LogisticRegression

ARTIFACT = json.load(open(os.environ["RISKLOOP_MODEL"]))
POLICY = json.load(open(os.environ["RISKLOOP_POLICY"]))
SPEC = ARTIFACT["feature_spec"]
COLUMNS = ARTIFACT["columns"]
INDEX = {name: i for i, name in enumerate(COLUMNS)}

model = LogisticRegression()
model.classes_ = np.array([0, 1])
weights = np.array(ARTIFACT["logistic_regression"]["weights"])
intercept = ARTIFACT["logistic_regression"]["intercept"]
model.coef_ = weights.reshape(1, -1)
model.intercept_ = np.array([intercept])
CALIBRATION = ARTIFACT.get("calibration")


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read(event, path):
    value = event
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None, False
        value = value[key]
    return value, True


def fnv1a(text):
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def duration(hours):
    if hours >= 168 and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    return f"{int(hours)}h" if hours == int(hours) else f"{hours}h"


def level(feature, event, now):
    kind = feature["kind"]
    if kind == "boolean":
        value, _ = read(event, feature["source"])
        return "true" if value is True else "false" if value is False else "unknown"
    if kind == "contains":
        value, _ = read(event, feature["source"])
        return "unknown" if not isinstance(value, list) else "true" if feature["value"] in value else "false"
    if kind == "categorical":
        value, _ = read(event, feature["source"])
        if value is None:
            return "unknown"
        return value if value in feature["vocabulary"] else "<other>"
    if kind == "hashed":
        value, _ = read(event, feature["source"])
        return "unknown" if value is None else f"#{fnv1a(str(value)) % feature['buckets']}"
    if kind == "time_since":
        value, present = read(event, feature["source"])
        if present and value is None:
            return "none"
        if not isinstance(value, str):
            return "unknown"
        age = (now - parse_time(value)) / 3600
        if age < 0:
            return "unknown"
        for hours in feature["buckets_hours"]:
            if age < hours:
                return "<" + duration(hours)
        return ">=" + duration(feature["buckets_hours"][-1])
    hour = datetime.utcfromtimestamp(now).hour
    if kind == "night":
        start, end = feature.get("from_hour", 0), feature.get("to_hour", 6)
        return "true" if (start <= hour < end if start <= end else hour >= start or hour < end) else "false"
    if kind == "hour_of_day":
        return f"{hour:02d}"
    return ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][datetime.utcfromtimestamp(now).weekday()]


def vector(event):
    row = np.zeros(len(COLUMNS))
    now = parse_time(event["occurred_at"])
    levels = {}
    for feature in SPEC["features"]:
        name, kind = feature["name"], feature["kind"]
        if kind == "numeric":
            value, _ = read(event, feature["source"])
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                low, high = feature.get("clip", [-math.inf, math.inf])
                x = min(max(value, low), high)
                row[INDEX[name]] = math.copysign(math.log1p(abs(x)), x) if feature.get("transform") == "log1p" else x
            else:
                row[INDEX[name + "=unknown"]] = 1
        elif kind == "cross":
            row[INDEX["&".join(f"{part}={levels[part]}" for part in feature["of"])]] = 1
        elif kind == "fraud_rate":
            row[INDEX[name]] = feature.get("prior_rate", 0.01)
        elif kind == "aggregate":
            pass  # no history: 0 (log1p(0) = 0)
        else:
            levels[name] = level(feature, event, now)
            row[INDEX[f"{name}={levels[name]}"]] = 1
    return row


app = FastAPI()


@app.post("/v1/score")
async def score(request: Request):
    event = json.loads(await request.body())
    for field in ("id", "occurred_at", "customer_id", "kind"):
        if field not in event:
            return JSONResponse({"error": {"code": "invalid_event", "message": "required but missing", "field": field}}, 400)
    probability = float(model.predict_proba(vector(event).reshape(1, -1))[0, 1])
    if CALIBRATION and CALIBRATION["method"] == "platt":
        raw = math.log(probability) - math.log1p(-probability)
        probability = 1 / (1 + math.exp(CALIBRATION["a"] * raw + CALIBRATION["b"]))
    thresholds = POLICY["thresholds"]
    decision = ("block" if probability >= thresholds["block"] else "review" if probability >= thresholds["review"]
                else "step_up" if probability >= thresholds["step_up"] else "allow")
    return {"event_id": event["id"], "probability": probability, "decision": decision, "model_id": ARTIFACT["id"]}
