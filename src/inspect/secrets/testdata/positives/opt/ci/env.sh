#!/bin/sh
# Tokens a CI job left behind.
export GITHUB_TOKEN={{github-pat}}
export GH_OAUTH={{github-oauth}}
export GH_APP={{github-app-token:ghu}}
export GH_SERVER={{github-app-token:ghs}}
export GH_REFRESH={{github-refresh-token}}
export GH_FINE="{{github-fine-grained-pat}}"
export GITLAB_TOKEN={{gitlab-pat}}
export HF_TOKEN={{hugging-face-access-token}}
export SLACK_BOT={{slack-access-token}}
export STRIPE_KEY='{{stripe-secret-token}}'
