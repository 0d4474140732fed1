from flask import jsonify

from webapp.api import bp


@bp.get("/openapi.json")
def openapi():
    return jsonify({"openapi": "3.1.0"})
