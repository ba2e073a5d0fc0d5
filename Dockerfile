# One image for web, worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock .
RUN pip install -r requirements.lock && useradd --system --uid 10001 tandem
COPY . .
# collectstatic needs settings that pass the production guard; nothing secret is baked in.
RUN DEBUG=false SECRET_KEY=build-only-not-used-at-runtime python manage.py collectstatic --noinput
USER tandem
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
