# The production image: gunicorn serves WSGI; the same image runs the Celery worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY reviewapp ./reviewapp
COPY screening ./screening
COPY coding ./coding
COPY advisory ./advisory
RUN pip install .
COPY . .
RUN DJANGO_SETTINGS_MODULE=reviewapp.settings.local python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 reviewapp && mkdir -p /app/media && chown reviewapp /app/media
USER reviewapp
EXPOSE 8000
CMD ["gunicorn", "reviewapp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
