// The official CometD 9 client (under cometd-nodejs-client) over websocket and long-polling.
import { standardScenarios, useServer } from './scenarios.mjs';

const server = useServer();
standardScenarios('cometd', 'websocket', server);
standardScenarios('cometd', 'long-polling', server);
