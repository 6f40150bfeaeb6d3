# goalwatch-airflow: Airflow 3 + goalwatch, from the hashed lock. Built by docker-compose.yml.
#
# Every package in requirements.lock ships a wheel for CPython 3.11 on manylinux (amd64 and
# arm64), so no compiler is installed. The lock carries the providers the compose stack needs:
# Postgres, Celery, Redis (with common-messaging, for the triggerer's watcher) and FAB (auth).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    AIRFLOW_HOME=/opt/airflow \
    GOALWATCH_CONFIG=/opt/airflow/config/goals.yml \
    GOALWATCH_HOME=/opt/airflow/goalwatch \
    AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS=False

# uid 50000, gid 0 as in Airflow's image: compose may run it as another uid (AIRFLOW_UID) in
# group 0, so the folders Airflow writes to are group-writable.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --no-create-home --shell /bin/bash airflow

WORKDIR /build
# The lock alone first, so editing the package does not reinstall ~160 dependencies.
COPY requirements-pip.lock requirements.lock ./
# A recent pip first: older ones reject hashed locks whose packages carry extras (celery[redis]).
RUN pip install --no-cache-dir --require-hashes -r requirements-pip.lock \
    && pip install --no-cache-dir --require-hashes -r requirements.lock
# --no-build-isolation: setuptools comes from the lock, not from an unpinned download.
COPY pyproject.toml ./
COPY src ./src
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && cd / && rm -rf /build

WORKDIR /opt/airflow
COPY --chown=50000:0 dags ./dags
COPY --chown=50000:0 config ./config
COPY --chown=50000:0 expectations ./expectations
COPY --chown=50000:0 plugins ./plugins
# logs and goalwatch (outbox, demo warehouse) become named volumes in compose; a fresh volume
# copies this ownership. Each container writes its default airflow.cfg into /opt/airflow: every
# setting that matters, the secrets among them, comes from the environment.
RUN mkdir -p logs goalwatch \
    && chown 50000:0 /opt/airflow logs goalwatch \
    && chmod 0775 /opt/airflow logs goalwatch

USER 50000:0
EXPOSE 8080
CMD ["airflow", "version"]
