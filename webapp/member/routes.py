from flask import render_template

from webapp.member import bp


@bp.get("/")
def landing():
    return render_template("member/landing.html")
