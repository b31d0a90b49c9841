'use strict';

/** Boots the atlas app (tests/app-atlas) in this process: see tests/app/scripts/boot.js. */
const path = require('node:path');

const { forApp } = require('../../app/scripts/boot');

module.exports = forApp(path.resolve(__dirname, '..'));
