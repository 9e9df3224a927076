#!/bin/sh
# Deploys the reference app to a running LocalStack with cdklocal (aws-cdk-local, pinned in devDependencies), and
# writes the stack's outputs where the end-to-end tests read them: EDA_KIT_E2E_TARGET=localstack npm run test:e2e.
# LocalStack runs in Docker and, since March 2026, needs LOCALSTACK_AUTH_TOKEN set when it starts.
set -eu
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost.localstack.cloud:4566}"
export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-http://s3.localhost.localstack.cloud:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
mkdir -p .local
npx cdklocal bootstrap
npx cdklocal deploy --all --require-approval never --outputs-file .local/localstack-outputs.json
