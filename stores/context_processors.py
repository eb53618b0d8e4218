def dashboard(request):
    return {}
