import './base.css';
import './presence.css';
import './comments.css';
import './inbox.css';
