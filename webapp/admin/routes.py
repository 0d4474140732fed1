from webapp.admin import bp


@bp.get("/")
def dashboard():
    return "admin"
