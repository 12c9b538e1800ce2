# One image for every onedoor process; each Deployment chooses the command
# (python -m gateway, python -m services.intake, ...). Build from the repository root:
#   docker build -t onedoor:dev .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src

# The pinned runtime dependencies from pyproject.toml go into /opt/venv; grpcio-tools, pinned
# in the dev extra, into a venv of its own that stays in this stage. pyproject.toml alone is
# copied first, so a code change does not reinstall the dependencies.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies']), file=open('requirements.txt', 'w')); \
print('\n'.join(d for d in p['optional-dependencies']['dev'] if d.startswith('grpcio-tools')), file=open('tools.txt', 'w'))" \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r requirements.txt \
 && python -m venv /opt/tools \
 && /opt/tools/bin/pip install -r tools.txt

# The generated protobuf code, as `make proto` makes it.
COPY protos ./protos
RUN mkdir gen \
 && cd protos \
 && /opt/tools/bin/python -m grpc_tools.protoc -I . \
      --python_out=../gen --pyi_out=../gen --grpc_python_out=../gen \
      $(find onedoor -name '*.proto' | sort)

FROM ${PYTHON_IMAGE}
# The root filesystem is read-only in the cluster: nothing is compiled at run time (it is
# done below), and output is unbuffered so that log lines arrive whole.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 onedoor \
 && useradd --system --uid 10001 --gid onedoor --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin onedoor
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/gen ./gen
COPY services ./services
COPY gateway ./gateway
RUN python -m compileall -q /app
# Numeric, so that the kubelet can check runAsNonRoot against it.
USER 10001:10001
EXPOSE 50051 8080
CMD ["python", "-m", "gateway"]
