#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildReferenceApp } from '../lib/stacks/reference-app';

// The built-in CloudFormation validation takes about 4 s per synth here and only ever warns; the test suite runs
// it on the whole app (test/lib/stacks/reference-app.test.ts) and fails on any finding, so `cdk synth` skips it.
buildReferenceApp(new App({ builtinCloudFormationValidation: false }));
