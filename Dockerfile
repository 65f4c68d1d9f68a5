FROM python:3.11-slim

# URLLIB3_NO_OVERRIDE: see requirements.txt (urllib3-future beside urllib3).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    URLLIB3_NO_OVERRIDE=1

WORKDIR /app
# Requirements first, so code changes do not reinstall dependencies.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# The app user may create staticfiles/ and var/ in /app but not rewrite the code.
RUN useradd --create-home --uid 1000 app && chown app /app
USER app

EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
