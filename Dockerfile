# pokin service image (used by docker-compose.yml with Neo4j 5).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends graphviz && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY seed ./seed
COPY viz ./viz
COPY cypher ./cypher
RUN pip install --no-cache-dir .
ENV POKIN_ENVIRONMENT=production
EXPOSE 8000
CMD ["pokin", "serve", "--host", "0.0.0.0", "--port", "8000"]
