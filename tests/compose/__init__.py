"""docker-compose.yml, .env.example, the Dockerfile and docker/postgres-init.sql, checked without a
Docker engine. ``composefile`` reads the files as Compose does; each test module checks one
concern and runs every checker on a small broken input too."""
