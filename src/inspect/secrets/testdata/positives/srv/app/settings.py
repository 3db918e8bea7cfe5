DEBUG = False
SECRET_KEY = '{{generic-secret-assignment}}'
